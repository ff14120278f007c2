package org.alexkafka.trainer.engine.dl4j.speed;

import org.junit.jupiter.api.Test;

import java.util.EnumSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class NativeBuildSelectorTest {
    // Flags lines cut from real /proc/cpuinfo: the AMD EPYC of CI (AVX2 only) and an AVX-512 Xeon.
    static final String EPYC = """
            processor	: 0
            vendor_id	: AuthenticAMD
            model name	: AMD EPYC 7B13
            flags		: fpu vme sse sse2 ssse3 fma cx16 sse4_1 sse4_2 movbe popcnt avx f16c rdrand avx2 bmi1 bmi2 sha_ni vaes
            bogomips	: 4899.99
            """;
    static final Set<String> XEON = Set.of("sse2", "avx", "avx2", "fma", "f16c",
            "avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl", "avx512_vnni");
    static final Set<NativeBuild> ALL = EnumSet.allOf(NativeBuild.class);

    @Test
    void parsesFlagsOfTheFirstProcessor() {
        Set<String> flags = NativeBuildSelector.parseCpuFlags(EPYC);
        assertThat(flags).contains("avx2", "fma", "f16c", "avx").doesNotContain("avx512f", "AuthenticAMD");
        assertThat(NativeBuildSelector.parseCpuFlags("model name : x\n")).isEmpty();
    }

    @Test
    void avx2CpuGetsOneDnnAvx2NeverAvx512() {
        Set<String> epyc = NativeBuildSelector.parseCpuFlags(EPYC);
        assertThat(NativeBuildSelector.choose(epyc, ALL::contains)).isEqualTo(NativeBuild.ONEDNN_AVX2);
        // only the AVX-512 jars shipped: running them would SIGILL, so the generic build it is
        assertThat(NativeBuildSelector.choose(epyc, b -> b == NativeBuild.ONEDNN_AVX512 || b == NativeBuild.AVX512))
                .isEqualTo(NativeBuild.GENERIC);
        assertThat(NativeBuildSelector.choose(epyc, b -> b == NativeBuild.AVX2 || b == NativeBuild.ONEDNN_AVX512))
                .isEqualTo(NativeBuild.AVX2);
    }

    @Test
    void avx512CpuPrefersOneDnnAvx512AndFallsBackInOrder() {
        assertThat(NativeBuildSelector.choose(XEON, ALL::contains)).isEqualTo(NativeBuild.ONEDNN_AVX512);
        assertThat(NativeBuildSelector.choose(XEON, b -> b != NativeBuild.ONEDNN_AVX512)).isEqualTo(NativeBuild.ONEDNN_AVX2);
        assertThat(NativeBuildSelector.choose(XEON, b -> b == NativeBuild.GENERIC)).isEqualTo(NativeBuild.GENERIC);
    }

    @Test
    void cpuWithoutAvxOrUnreadableCpuinfoGetsAPortableBuild() {
        Set<String> old = Set.of("sse2", "ssse3", "sse4_2");
        assertThat(NativeBuildSelector.choose(old, ALL::contains)).isEqualTo(NativeBuild.ONEDNN);
        assertThat(NativeBuildSelector.choose(Set.of(), b -> !b.oneDnn())).isEqualTo(NativeBuild.GENERIC);
    }

    @Test
    void extensionsMatchTheMavenClassifiers() {
        assertThat(NativeBuild.ONEDNN_AVX2.classifier()).isEqualTo("linux-x86_64-onednn-avx2");
        assertThat(NativeBuild.GENERIC.extension()).isEmpty();
        // the generic jar is a dependency of this module: its JNI library must be found by name
        assertThat(NativeBuildSelector.onClassPath(NativeBuild.GENERIC)).isTrue();
    }

    @Test
    void userSettingWins() {
        String key = NativeBuildSelector.EXTENSION_PROPERTY;
        String before = System.getProperty(key);
        try {
            System.setProperty(key, "-avx2");
            NativeBuildSelector.Selection s = NativeBuildSelector.selectBeforeNd4jLoads();
            assertThat(s.build()).isNull();
            assertThat(System.getProperty(key)).isEqualTo("-avx2");
        } finally {
            if (before == null) {
                System.clearProperty(key);
            } else {
                System.setProperty(key, before);
            }
        }
    }
}
