package org.alexkafka.trainer.engine.dl4j.speed;

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
    /** The small profile's largest per-step temporary: oneDNN's 16-channel copy of conv1's input at batch 32. */
    static final long SMALL_NETWORK_BLOCK = 8L << 20;

    /**
     * Child JVM: frees one block, allocates another, prints how many bytes that newly mapped, then
     * frees it and prints by how much malloc's heaps shrank. Modes: untuned, tuned (the 1 MiB pin),
     * small (the pin, then the small-network thresholds); a second argument "big" uses 8 MiB blocks.
     */
    public static void main(String[] args) {
        String mode = args.length > 0 ? args[0] : "untuned";
        long size = args.length > 1 && args[1].equals("big") ? SMALL_NETWORK_BLOCK : BLOCK;
        if (!mode.equals("untuned")) {
            System.err.println(MallocTuning.apply(System.getenv()));
        }
        if (mode.equals("small")) {
            System.err.println(MallocTuning.forNetwork(true, System.getenv()));
        }
        Libc libc = (Libc) Native.loadLibrary("c", Libc.class);
        libc.free(libc.malloc(size)); // untuned glibc raises its threshold above the block's size here
        long mappedBefore = libc.mallinfo2().hblkhd;
        Pointer block = libc.malloc(size);
        long mapped = libc.mallinfo2().hblkhd - mappedBefore;
        long heapBefore = libc.mallinfo2().arena;
        libc.free(block);
        System.out.println(mapped + " " + (heapBefore - libc.mallinfo2().arena));
    }

    /** [bytes newly mapped by the second allocation, bytes malloc's heaps gave back when it was freed]. */
    static long[] probeInChild(String mode, String size) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"),
                "-cp", System.getProperty("java.class.path"), MallocTuningTest.class.getName(), mode, size);
        pb.environment().remove(MallocTuning.GLIBC_VARIABLE);
        pb.environment().remove(MallocTuning.GLIBC_TRIM_VARIABLE);
        Process p = pb.redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("probe output: %s", out).isZero();
        String[] parts = out.split(" ");
        return new long[] {Long.parseLong(parts[0]), Long.parseLong(parts[1])};
    }

    static long newlyMappedInChild(String mode) throws IOException, InterruptedException {
        return probeInChild(mode, "2MiB")[0];
    }

    /**
     * Small networks: an 8 MiB block freed and allocated again every step comes from the heap, and
     * freeing it does not trim the heap (with the 1 MiB pin alone it is a fresh mapping each time).
     */
    @Test
    void smallNetworkTemporariesStayInTheHeap() throws Exception {
        assertThat(probeInChild("tuned", "big")[0]).as("1 MiB pin: mapped").isGreaterThanOrEqualTo(SMALL_NETWORK_BLOCK);
        long[] small = probeInChild("small", "big");
        assertThat(small[0]).as("small network: from the heap").isZero();
        assertThat(small[1]).as("small network: the freed block stays in the heap, not trimmed").isLessThan(1L << 20);
    }

    @Test
    void forNetworkKeepsTheUsersSettingAndCanGoBack() {
        assertThat(MallocTuning.forNetwork(true, Map.of(MallocTuning.GLIBC_VARIABLE, "65536"))).contains("kept");
        assertThat(MallocTuning.forNetwork(true, Map.of(MallocTuning.GLIBC_TRIM_VARIABLE, "1048576")))
                .contains("32 MiB").contains("kept " + MallocTuning.GLIBC_TRIM_VARIABLE);
        assertThat(MallocTuning.forNetwork(false, Map.of())).contains("mmap threshold 1 MiB").contains("128 KiB");
        assertThat(MallocTuning.forNetwork(false, Map.of())).isEqualTo("malloc: unchanged");
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
