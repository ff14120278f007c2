package org.alexkafka.trainer.engine.dl4j.speed;

import java.util.Set;

/**
 * The nd4j-native builds published for linux-x86_64, best first. Each is a separate jar whose
 * Maven classifier is {@code linux-x86_64} + {@link #extension()}; JavaCPP loads the one named by
 * the system property {@code org.bytedeco.javacpp.platform.extension} (empty = generic).
 *
 * <p>The instruction sets are those the builds are compiled for: a build whose instructions the CPU
 * lacks does not fail politely, the JVM dies with SIGILL while libnd4j initialises (seen with
 * {@code -onednn-avx512} on an AVX2-only EPYC), so the choice must be right before ND4J loads.
 */
public enum NativeBuild {
    ONEDNN_AVX512("-onednn-avx512", true, Set.of("avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl")),
    ONEDNN_AVX2("-onednn-avx2", true, Set.of("avx", "avx2", "fma", "f16c")),
    ONEDNN("-onednn", true, Set.of()),
    AVX512("-avx512", false, Set.of("avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl")),
    AVX2("-avx2", false, Set.of("avx", "avx2", "fma", "f16c")),
    GENERIC("", false, Set.of());

    private final String extension;
    private final boolean oneDnn;
    private final Set<String> requiredCpuFlags;

    NativeBuild(String extension, boolean oneDnn, Set<String> requiredCpuFlags) {
        this.extension = extension;
        this.oneDnn = oneDnn;
        this.requiredCpuFlags = requiredCpuFlags;
    }

    /** JavaCPP platform extension, e.g. {@code -onednn-avx2}; empty for the generic build. */
    public String extension() {
        return extension;
    }

    /** Maven classifier of the jar holding this build. */
    public String classifier() {
        return "linux-x86_64" + extension;
    }

    /** Whether libnd4j in this build has oneDNN (MKL-DNN) kernels for conv, pooling and LRN. */
    public boolean oneDnn() {
        return oneDnn;
    }

    public Set<String> requiredCpuFlags() {
        return requiredCpuFlags;
    }

    /** The JNI library JavaCPP looks for on the class path for this build. */
    public String jniResource() {
        return "org/nd4j/linalg/cpu/nativecpu/bindings/" + classifier() + "/libjnind4jcpu.so";
    }

    public boolean runsOn(Set<String> cpuFlags) {
        return cpuFlags.containsAll(requiredCpuFlags);
    }
}
