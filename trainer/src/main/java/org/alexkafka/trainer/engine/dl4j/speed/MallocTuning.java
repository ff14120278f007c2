package org.alexkafka.trainer.engine.dl4j.speed;

import com.sun.jna.Library;
import com.sun.jna.Native;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;
import java.util.Map;

/**
 * Pins glibc's mmap threshold at 1 MiB, so that every native block of 1 MiB or more (oneDNN's
 * reorder buffers, libnd4j's temporaries) is mapped on allocation and unmapped on free.
 *
 * <p>By default glibc raises the threshold each time such a block is freed, up to 32 MiB; blocks
 * below it then come from malloc's arenas, and what they free stays in the process. A training
 * step frees hundreds of MB of such blocks, so resident memory crept up over the first steps by
 * about 500 MB at batch 128 (peak RSS 2713 MB without this, 2210 MB with it, same images/s).
 * Setting the threshold explicitly also switches that adaptation off, which is the point.
 *
 * <p>Runs once, before ND4J loads (from {@link NativeBuildSelector#selectBeforeNd4jLoads()}).
 * Left alone when the user set glibc's own {@code MALLOC_MMAP_THRESHOLD_} variable, and a no-op
 * where the C library has no {@code mallopt} (not glibc).
 *
 * <p>The pin suits large networks only. A fixed threshold also fixes glibc's trim threshold at its
 * 128 KiB default, and a small network's per-step temporaries of a few MB then become a fresh
 * mapping (or a trimmed and regrown heap top) every step, faulted in page by page:
 * {@link #forNetwork} raises both thresholds for small networks ({@link NetworkSizeTuning}).
 */
public final class MallocTuning {
    /** glibc's own environment variable for the same setting; when set, it wins. */
    public static final String GLIBC_VARIABLE = "MALLOC_MMAP_THRESHOLD_";
    public static final int MMAP_THRESHOLD_BYTES = 1 << 20;
    /** glibc's variable for the trim threshold; when set, it wins. */
    public static final String GLIBC_TRIM_VARIABLE = "MALLOC_TRIM_THRESHOLD_";
    /** {@code M_TRIM_THRESHOLD} and {@code M_MMAP_THRESHOLD} in glibc's malloc.h. */
    static final int M_TRIM_THRESHOLD = -1;
    static final int M_MMAP_THRESHOLD = -3;

    private static final Logger log = LoggerFactory.getLogger(MallocTuning.class);
    private static String outcome;
    private static boolean raisedForSmallNetwork;

    private MallocTuning() {
    }

    /** The slice of libc used here. */
    public interface CLibrary extends Library {
        int mallopt(int param, int value);
    }

    /** Applies the threshold once per JVM; returns what happened, for logs. */
    public static synchronized String applyOnce() {
        if (outcome == null) {
            outcome = apply(System.getenv());
            log.debug("{}", outcome); // the engine reports it when it starts
        }
        return outcome;
    }

    /**
     * The thresholds for a small network ({@code small}: mmap {@value NetworkSizeTuning#SMALL_NETWORK_MMAP_THRESHOLD_BYTES}
     * bytes, trim {@value NetworkSizeTuning#SMALL_NETWORK_TRIM_THRESHOLD_BYTES} bytes) or a large one (back to the
     * 1 MiB pin and glibc's 128 KiB trim threshold, if they were raised here). Any time, before or after ND4J loads:
     * they govern the allocations and frees that follow. Returns what happened, for logs.
     */
    public static synchronized String forNetwork(boolean small) {
        return forNetwork(small, System.getenv());
    }

    static synchronized String forNetwork(boolean small, Map<String, String> env) {
        if (env.containsKey(GLIBC_VARIABLE)) {
            return "malloc: kept " + GLIBC_VARIABLE + "=" + env.get(GLIBC_VARIABLE);
        }
        if (!small && !raisedForSmallNetwork) {
            return "malloc: unchanged";
        }
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            return "malloc: not Linux, left as it is";
        }
        try {
            CLibrary libc = (CLibrary) Native.loadLibrary("c", CLibrary.class);
            boolean keepTrim = env.containsKey(GLIBC_TRIM_VARIABLE);
            int mmap = small ? NetworkSizeTuning.SMALL_NETWORK_MMAP_THRESHOLD_BYTES : MMAP_THRESHOLD_BYTES;
            int trim = small ? NetworkSizeTuning.SMALL_NETWORK_TRIM_THRESHOLD_BYTES : NetworkSizeTuning.GLIBC_DEFAULT_TRIM_THRESHOLD_BYTES;
            boolean ok = libc.mallopt(M_MMAP_THRESHOLD, mmap) == 1 && (keepTrim || libc.mallopt(M_TRIM_THRESHOLD, trim) == 1);
            if (!ok) {
                return "malloc: mallopt refused; left as it is";
            }
            raisedForSmallNetwork = small;
            return "malloc: mmap threshold " + (mmap >> 20) + " MiB, trim threshold "
                    + (keepTrim ? "kept " + GLIBC_TRIM_VARIABLE + "=" + env.get(GLIBC_TRIM_VARIABLE) : (trim >= 1 << 20 ? (trim >> 20) + " MiB" : (trim >> 10) + " KiB"));
        } catch (LinkageError | RuntimeException e) {
            return "malloc: no glibc mallopt (" + e.getClass().getSimpleName() + "); left as it is";
        }
    }

    static String apply(Map<String, String> env) {
        if (env.containsKey(GLIBC_VARIABLE)) {
            return "malloc: kept " + GLIBC_VARIABLE + "=" + env.get(GLIBC_VARIABLE);
        }
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            return "malloc: not Linux, left as it is";
        }
        try {
            CLibrary libc = (CLibrary) Native.loadLibrary("c", CLibrary.class);
            int ok = libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES);
            return ok == 1
                    ? "malloc: blocks of " + (MMAP_THRESHOLD_BYTES >> 20) + " MiB and more are mapped and returned to the OS on free"
                    : "malloc: mallopt(M_MMAP_THRESHOLD) refused; left as it is";
        } catch (LinkageError | RuntimeException e) { // no libc mallopt, or no JNA on the class path
            return "malloc: no glibc mallopt (" + e.getClass().getSimpleName() + "); left as it is";
        }
    }
}
