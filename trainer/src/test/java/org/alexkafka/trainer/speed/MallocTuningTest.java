package org.alexkafka.trainer.speed;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * glibc's malloc, observed through {@code mallinfo2()} in a fresh JVM (a long-lived one has free
 * space in its arenas, which malloc reuses before it maps anything): after the tuning a 2 MiB block
 * is mapped even after a 2 MiB block was freed; without it, glibc serves it from its heap.
 */
class MallocTuningTest {

    /** {@code struct mallinfo2} (glibc 2.33+): ten size_t counters. */
    public static class MallInfo2 extends Structure implements Structure.ByValue {
        public long arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;

        @Override
        protected List<String> getFieldOrder() {
            return List.of("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost");
        }
    }

    public interface Libc extends Library {
        MallInfo2 mallinfo2();

        Pointer malloc(long size);

        void free(Pointer p);
    }

    static final long BLOCK = 2L << 20;

    /** Child JVM: frees one 2 MiB block, allocates another, prints how many bytes that newly mapped. */
    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("tuned")) {
            System.err.println(MallocTuning.apply(System.getenv()));
        }
        Libc libc = (Libc) Native.loadLibrary("c", Libc.class);
        libc.free(libc.malloc(BLOCK)); // untuned glibc raises its threshold above 2 MiB here
        long mappedBefore = libc.mallinfo2().hblkhd;
        Pointer block = libc.malloc(BLOCK);
        System.out.println(libc.mallinfo2().hblkhd - mappedBefore);
        libc.free(block);
    }

    static long newlyMappedInChild(String mode) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"),
                "-cp", System.getProperty("java.class.path"), MallocTuningTest.class.getName(), mode);
        pb.environment().remove(MallocTuning.GLIBC_VARIABLE);
        Process p = pb.redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("probe output: %s", out).isZero();
        return Long.parseLong(out);
    }

    @Test
    void largeBlocksAreMappedEvenAfterLargeBlocksWereFreed() throws Exception {
        assertThat(newlyMappedInChild("untuned")).as("glibc's default: served from the heap").isZero();
        assertThat(newlyMappedInChild("tuned")).as("tuned: a mapping of its own").isGreaterThanOrEqualTo(BLOCK);
    }

    @Test
    void reportsWhatItDid() {
        assertThat(MallocTuning.applyOnce()).contains("returned to the OS");
        assertThat(MallocTuning.apply(Map.of(MallocTuning.GLIBC_VARIABLE, "65536"))).contains("kept");
    }
}
