package org.alexkafka.trainer.engine.dl4j.speed;

import org.deeplearning4j.nn.api.Model;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process-wide native settings that depend on how big the network is: glibc's mmap and trim
 * thresholds ({@link MallocTuning}) and OpenBLAS's thread count. {@link LayerHelpers#enable(Model)}
 * applies them to every network it is given (built, restored or replicated), on CPU.
 *
 * <p><b>Large networks</b> (the paper's, 62 M parameters) keep what {@link MallocTuning#applyOnce()}
 * set before ND4J loaded, and ND4J's BLAS thread count: their whole-batch temporaries are tens to
 * hundreds of MB, mapped and unmapped whatever the threshold, and the pin keeps the smaller ones
 * from piling up in malloc's arenas.
 *
 * <p><b>Small networks</b> (under {@value #SMALL_NETWORK_PARAMETERS} parameters, e.g. the small
 * profile's 0.33 M at 64 px and batch 32) get:
 * <ul>
 *   <li>an mmap threshold of 32 MiB (glibc's largest) and a trim threshold of 64 MiB. Their
 *   native temporaries are a few MB (oneDNN's copy of conv1's 3-channel input padded to 16
 *   channels: 8 MiB at batch 32, and a 1.5 MiB one), new every step. With the 1 MiB pin each was
 *   a fresh mapping, zero-filled page by page: 2,600-2,900 minor page faults per step, 20-26% of
 *   the process's CPU time in the kernel. From the heap, without trimming it back each time, they
 *   cost ~120 faults per step and 3% system time; peak RSS +20 MB.</li>
 *   <li>one OpenBLAS thread. Their fully connected layers are tiny matrix products (32x64x256 at
 *   batch 32) that OpenBLAS still splits over its threads, and its idle threads spin on
 *   {@code sched_yield} for a long while after each call: on 2 cores a third busy thread beside
 *   the two OpenMP ones, and the caller yielding while it waits. Measured: 24% of the training
 *   thread's samples in {@code sched_yield}; the step went from 27-44 ms to 20-25 ms.</li>
 * </ul>
 * User settings win: glibc's {@code MALLOC_MMAP_THRESHOLD_} / {@code MALLOC_TRIM_THRESHOLD_}, and
 * ND4J's {@code ND4J_SKIP_BLAS_THREADS} (then OpenBLAS's own variables apply).
 */
public final class NetworkSizeTuning {
    /** Networks with fewer parameters than this (4M) count as small. */
    public static final long SMALL_NETWORK_PARAMETERS = 1L << 22;
    /** glibc's M_MMAP_THRESHOLD maximum on 64-bit (HEAP_MAX_SIZE / 2). */
    public static final int SMALL_NETWORK_MMAP_THRESHOLD_BYTES = 32 << 20;
    public static final int SMALL_NETWORK_TRIM_THRESHOLD_BYTES = 64 << 20;
    /** glibc's default M_TRIM_THRESHOLD, which a fixed mmap threshold leaves in force. */
    static final int GLIBC_DEFAULT_TRIM_THRESHOLD_BYTES = 128 << 10;

    private static final Logger log = LoggerFactory.getLogger(NetworkSizeTuning.class);
    private static Boolean appliedSmall;
    private static int defaultBlasThreads = -1;

    private NetworkSizeTuning() {
    }

    /** Whether a network of {@code parameters} parameters gets the small-network settings. */
    public static boolean isSmall(long parameters) {
        return parameters < SMALL_NETWORK_PARAMETERS;
    }

    /** Applies the settings for {@code model}'s size (CPU backend only); returns what was done, for logs. */
    public static String apply(Model model) {
        return apply(model.numParams());
    }

    /** Applies the settings for a network of {@code parameters} parameters; logs when they change. */
    public static synchronized String apply(long parameters) {
        boolean small = isSmall(parameters);
        String what = (small ? "small network (" : "large network (") + parameters + " parameters): "
                + MallocTuning.forNetwork(small) + "; " + blasThreads(small);
        if (appliedSmall == null || appliedSmall != small) {
            log.info("{}", what);
            appliedSmall = small;
        }
        return what;
    }

    /** Back to the settings of a large network (ND4J's BLAS threads, the 1 MiB pin): DL4J as shipped, for the bench. */
    public static synchronized String reset() {
        appliedSmall = null;
        return MallocTuning.forNetwork(false) + "; " + blasThreads(false);
    }

    private static String blasThreads(boolean small) {
        String skip = System.getenv("ND4J_SKIP_BLAS_THREADS");
        if (skip != null && !skip.isEmpty()) {
            return "BLAS threads left to OpenBLAS (ND4J_SKIP_BLAS_THREADS)";
        }
        try {
            var blas = Nd4j.factory().blas();
            if (defaultBlasThreads < 0) {
                defaultBlasThreads = blas.getMaxThreads();
            }
            int threads = small ? 1 : defaultBlasThreads;
            if (blas.getMaxThreads() != threads) {
                blas.setMaxThreads(threads);
            }
            return "BLAS threads " + threads;
        } catch (RuntimeException | LinkageError e) {
            return "BLAS threads unchanged (" + e.getClass().getSimpleName() + ")";
        }
    }
}
