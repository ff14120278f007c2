package org.alexkafka.trainer.engine.dl4j.speed;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Picks the fastest nd4j-native build that this CPU can run and that is on the class path, and
 * tells JavaCPP to load it. Must run before anything touches ND4J ({@code Nd4j}, a network, an
 * {@code INDArray}): JavaCPP reads the property once, when libnd4j is loaded.
 *
 * <p>Why not leave it to JavaCPP: with the property unset, JavaCPP picks an extension jar it finds
 * on the class path by itself (observed: with the generic and {@code -onednn-avx2} jars present it
 * loads {@code -onednn-avx2}; with {@code -avx2} also present it loads {@code -avx2}), without
 * looking at the CPU. If the chosen jar is missing, JavaCPP silently falls back to the generic
 * build; if the CPU lacks the build's instructions the JVM dies with SIGILL. So the property is
 * always set here, to a build that is both present and runnable, the generic one ({@code ""})
 * as the last resort.
 */
public final class NativeBuildSelector {
    /** JavaCPP's system property naming the platform extension to load. */
    public static final String EXTENSION_PROPERTY = "org.bytedeco.javacpp.platform.extension";

    private static final Logger log = LoggerFactory.getLogger(NativeBuildSelector.class);

    private NativeBuildSelector() {
    }

    /** What was chosen and why; {@code build} is null when the user's own setting was kept. */
    public record Selection(NativeBuild build, String extension, String reason) {
    }

    /**
     * The best build, in {@link NativeBuild} order, that runs on a CPU with {@code cpuFlags} and
     * whose jar is {@code available}; {@link NativeBuild#GENERIC} when none is.
     */
    public static NativeBuild choose(Set<String> cpuFlags, Predicate<NativeBuild> available) {
        for (NativeBuild build : NativeBuild.values()) {
            if (build != NativeBuild.GENERIC && build.runsOn(cpuFlags) && available.test(build)) {
                return build;
            }
        }
        return NativeBuild.GENERIC;
    }

    /** The {@code flags} of the first processor in a /proc/cpuinfo text (x86) or its {@code Features} (arm). */
    public static Set<String> parseCpuFlags(String cpuinfo) {
        for (String line : cpuinfo.split("\n")) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String key = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            if (key.equals("flags") || key.equals("features")) {
                return Arrays.stream(line.substring(colon + 1).trim().split("\\s+"))
                        .filter(s -> !s.isEmpty())
                        .collect(Collectors.toUnmodifiableSet());
            }
        }
        return Set.of();
    }

    /** This machine's CPU flags; empty (so only the generic build qualifies) when unreadable. */
    public static Set<String> cpuFlags() {
        try {
            return parseCpuFlags(Files.readString(Path.of("/proc/cpuinfo")));
        } catch (IOException | RuntimeException e) {
            log.warn("Cannot read /proc/cpuinfo ({}); assuming a CPU that only runs the generic ND4J build", e.toString());
            return Set.of();
        }
    }

    /** Whether the jar for {@code build} is on this class path. */
    public static boolean onClassPath(NativeBuild build) {
        ClassLoader cl = NativeBuildSelector.class.getClassLoader();
        return cl.getResource(build.jniResource()) != null;
    }

    /**
     * Sets {@value #EXTENSION_PROPERTY} for this JVM unless the user set it already (a
     * {@code -D} flag wins: it is the documented manual override), and applies
     * {@link MallocTuning}, the other native setting that must precede ND4J's allocations. Call
     * first thing in main() and in test setup, before ND4J loads; calling it again is harmless.
     */
    public static synchronized Selection selectBeforeNd4jLoads() {
        MallocTuning.applyOnce();
        String preset = System.getProperty(EXTENSION_PROPERTY);
        if (preset != null) {
            return new Selection(null, preset, "kept -D" + EXTENSION_PROPERTY + "=" + preset);
        }
        boolean linuxX86 = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")
                && Set.of("amd64", "x86_64").contains(System.getProperty("os.arch", ""));
        if (!linuxX86) {
            return new Selection(null, null, "not linux-x86_64: JavaCPP's own choice");
        }
        Set<String> flags = cpuFlags();
        NativeBuild build = choose(flags, NativeBuildSelector::onClassPath);
        System.setProperty(EXTENSION_PROPERTY, build.extension());
        String reason = "CPU " + (flags.contains("avx512f") ? "has AVX-512" : flags.contains("avx2") ? "has AVX2, no AVX-512" : "has neither AVX2 nor AVX-512")
                + "; chose nd4j-native " + build.classifier();
        log.debug("{}", reason); // the engine reports it when it starts: --help stays quiet
        return new Selection(build, build.extension(), reason);
    }
}
