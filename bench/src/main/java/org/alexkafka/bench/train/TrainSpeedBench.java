package org.alexkafka.bench.train;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.alexkafka.trainer.engine.Batch;
import org.alexkafka.trainer.engine.dl4j.speed.LayerHelpers;
import org.alexkafka.trainer.engine.torch.TorchEngine;
import org.alexkafka.trainer.engine.dl4j.speed.NativeBuildSelector;
import org.alexkafka.trainer.engine.dl4j.speed.NetworkSizeTuning;
import org.alexkafka.trainer.engine.dl4j.AlexNet;
import org.alexkafka.trainer.model.AlexNetSpec;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * Training-step speed of AlexNet on ND4J against the same network in PyTorch, on this machine, in
 * one run: the paper's network ({@code --profile paper}) or the small profile of the demo and the
 * tests ({@code --profile small}: {@link AlexNetSpec#small}(10, 64), batch 32). Each measurement
 * runs in a fresh process (so peak RSS belongs to that one engine and batch size, and the native
 * build is chosen before ND4J loads); ND4J and PyTorch alternate, and with {@code --rounds N} each
 * is measured N times and the median kept. Besides images/s and CPU-s/step each side reports its
 * share of system CPU time and its minor page faults per step (getrusage / /proc/self/stat over
 * the timed steps). The last line is a key=value summary.
 */
@Command(name = "bench-train", mixinStandardHelpOptions = true,
        description = "AlexNet training step (paper: 227x227, 1000 classes; small: 64x64, 10 classes): images/s, CPU-s/step, "
                + "system time, page faults, peak RSS; ND4J vs PyTorch.")
public final class TrainSpeedBench implements Callable<Integer> {

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec; // the command line this runs in (for usage errors)

    /** The paper's input side as conv1's arithmetic needs it (224 crops padded by 2 work the same). */
    static final int INPUT = 227;

    /** Which network is benched. */
    public enum Profile {
        /** The paper's AlexNet at 227x227, 1000 classes; batches 32 and 128; 3 single-step samples. */
        paper(AlexNetSpec.paper().withInputSize(INPUT), List.of(32, 128), 3, 1, 1),
        /**
         * The small profile of {@code run} and the tests: 64x64 crops, 10 classes; batch 32; 20 samples of 25 steps
         * after 200 warm-up steps (~5 s: the JIT compiles DL4J's Java code for that long, 12-28% slower meanwhile).
         */
        small(AlexNetSpec.small(10, 64), List.of(32), 500, 25, 200);

        final AlexNetSpec spec;
        final List<Integer> batches;
        final int steps;
        final int block;
        final int warmup;

        Profile(AlexNetSpec spec, List<Integer> batches, int steps, int block, int warmup) {
            this.spec = spec;
            this.batches = batches;
            this.steps = steps;
            this.block = block;
            this.warmup = warmup;
        }
    }

    /** What runs on the ND4J side. */
    public enum Variant {
        /** The trainer's path: native build chosen for the CPU + native layer helpers. */
        fast,
        /** DL4J as shipped: generic native build, no helpers. */
        shipped,
        /** The CPU's oneDNN build, but DL4J's built-in layers (no helpers). */
        onednn_build_only,
        /** Generic native build with the helpers (libnd4j's own kernels, no oneDNN). */
        generic_helpers,
        /** {@code fast}, but max pooling on oneDNN, as DL4J runs it (before {@code NativeMaxPoolHelper}). */
        onednn_pooling
    }

    @Option(names = "--profile", defaultValue = "${env:BENCH_PROFILE:-paper}",
            description = "Network: paper (227x227, 1000 classes) or small (64x64, 10 classes, as `run` trains it).")
    Profile profile;

    @Option(names = "--batches", split = ",", defaultValue = "${env:BENCH_BATCHES:-0}",
            description = "Batch sizes; 0 = the profile's (paper 32,128; small 32).")
    List<Integer> batches;

    @Option(names = "--steps", defaultValue = "${env:BENCH_STEPS:-0}",
            description = "Timed steps per measurement; 0 = the profile's (paper 3, small 500).")
    int steps;

    @Option(names = "--block", defaultValue = "${env:BENCH_BLOCK:-0}",
            description = "Steps per timed sample, the median sample is kept; 0 = the profile's (paper 1, small 25).")
    int block;

    @Option(names = "--warmup", defaultValue = "${env:BENCH_WARMUP:-0}", description = "Untimed steps first; 0 = the profile's (paper 1, small 200).")
    int warmup;

    @Option(names = "--rounds", defaultValue = "${env:BENCH_ROUNDS:-1}", description = "Alternations per batch size; medians over rounds.")
    int rounds;

    @Option(names = "--engine", split = ",", defaultValue = "${env:BENCH_ENGINE:-dl4j}",
            description = "Engines to time beside PyTorch: dl4j, torch or both (dl4j,torch); default ${DEFAULT-VALUE}.")
    List<String> engines;

    @Option(names = "--variants", split = ",", defaultValue = "${env:BENCH_VARIANTS:-fast}",
            description = "ND4J variants: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    List<Variant> variants;

    @Option(names = "--threads", defaultValue = "${env:BENCH_THREADS:-2}", description = "Threads for both engines.")
    int threads;

    @Option(names = "--python", defaultValue = "${env:BENCH_PYTHON:-/usr/bin/python3}", description = "Python with torch for the peer.")
    Path python;

    @Option(names = "--peer-script", defaultValue = "${env:BENCH_PEER_SCRIPT:-bench/alexnet_torch.py}",
            description = "The PyTorch peer; a relative path is also looked up in parent folders.")
    Path peerScript;

    @Option(names = "--no-peer", description = "Skip PyTorch.")
    boolean noPeer;

    @Option(names = "--worker-heap", defaultValue = "${env:BENCH_WORKER_HEAP:-1g}",
            description = "-Xmx of the ND4J worker JVMs (ND4J's arrays live off-heap).")
    String workerHeap;

    @Option(names = "--worker", hidden = true)
    Variant worker;

    @Option(names = "--torch-worker", hidden = true)
    boolean torchWorker;

    @Option(names = "--batch", hidden = true)
    int workerBatch;

    /** One measurement, as printed by a worker (either engine); sysShare and minfltPerStep are NaN when not reported. */
    record Measurement(String engine, String variant, int batch, double imgPerS, double stepS, double cpuS, long peakRssMb, String info,
                       double sysShare, double minfltPerStep) {
        static Optional<Measurement> parse(String line) {
            if (!line.startsWith("engine=")) {
                return Optional.empty();
            }
            Map<String, String> kv = new LinkedHashMap<>();
            for (String part : line.trim().split("\\s+")) {
                int eq = part.indexOf('=');
                if (eq > 0) {
                    kv.put(part.substring(0, eq), part.substring(eq + 1));
                }
            }
            return Optional.of(new Measurement(kv.get("engine"), kv.getOrDefault("variant", kv.get("engine")),
                    Integer.parseInt(kv.get("batch")), Double.parseDouble(kv.get("img_s")), Double.parseDouble(kv.get("step_s")),
                    Double.parseDouble(kv.get("cpu_s")), Long.parseLong(kv.get("peak_rss_mb")),
                    kv.getOrDefault("torch", kv.getOrDefault("helpers", "")),
                    Double.parseDouble(kv.getOrDefault("sys_share", "NaN")), Double.parseDouble(kv.getOrDefault("minflt_step", "NaN"))));
        }
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new TrainSpeedBench()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (batches == null || batches.isEmpty() || batches.equals(List.of(0))) {
            batches = profile.batches;
        }
        steps = steps > 0 ? steps : profile.steps;
        block = Math.max(1, Math.min(steps, block > 0 ? block : profile.block));
        warmup = warmup > 0 ? warmup : profile.warmup;
        if (worker != null) {
            runWorker(worker, workerBatch);
            return 0;
        }
        if (torchWorker) {
            runTorchWorker(workerBatch);
            return 0;
        }
        for (String e : engines) {
            if (!e.equals("dl4j") && !e.equals("torch")) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--engine takes dl4j and/or torch, got " + e);
            }
        }
        Optional<Path> peer = noPeer ? Optional.empty() : findPeer();
        List<Measurement> all = new ArrayList<>();
        for (int batch : batches) {
            for (int round = 0; round < rounds; round++) {
                // alternate who goes first, so drift in machine load hits both sides alike
                boolean peerFirst = round % 2 == 1;
                if (peerFirst && peer.isPresent()) {
                    runPeer(peer.get(), batch).ifPresent(all::add);
                }
                for (String engine : engines) {
                    if (engine.equals("torch")) {
                        runTorchJvm(batch).ifPresent(all::add);
                    } else {
                        for (Variant v : variants) {
                            runNd4jWorker(v, batch).ifPresent(all::add);
                        }
                    }
                }
                if (!peerFirst && peer.isPresent()) {
                    runPeer(peer.get(), batch).ifPresent(all::add);
                }
            }
        }
        report(all, peer.isPresent());
        return 0;
    }

    // ---------------------------------------------------------------- parent side

    private Optional<Path> findPeer() {
        if (!Files.isExecutable(python)) {
            System.out.println("# peer: " + python + " not found; PyTorch side skipped (apt-get install -y python3-torch)");
            return Optional.empty();
        }
        Path script = peerScript;
        if (!script.isAbsolute()) {
            for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
                if (Files.isRegularFile(dir.resolve(peerScript))) {
                    script = dir.resolve(peerScript);
                    break;
                }
            }
        }
        if (!Files.isRegularFile(script)) {
            System.out.println("# peer: script " + peerScript + " not found; PyTorch side skipped");
            return Optional.empty();
        }
        try {
            Process p = new ProcessBuilder(python.toString(), "-c", "import torch").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                System.out.println("# peer: " + python + " cannot import torch; PyTorch side skipped (apt-get install -y python3-torch)");
                return Optional.empty();
            }
        } catch (IOException | InterruptedException e) {
            System.out.println("# peer: " + e + "; PyTorch side skipped");
            return Optional.empty();
        }
        return Optional.of(script);
    }

    private Optional<Measurement> runNd4jWorker(Variant v, int batch) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("-D") && !arg.startsWith("-D" + NativeBuildSelector.EXTENSION_PROPERTY)) {
                cmd.add(arg); // e.g. the JavaCPP cache dir
            }
        }
        String userExtension = System.getProperty(NativeBuildSelector.EXTENSION_PROPERTY);
        if (userExtension != null && (v == Variant.fast || v == Variant.onednn_build_only || v == Variant.onednn_pooling)) {
            cmd.add("-D" + NativeBuildSelector.EXTENSION_PROPERTY + "=" + userExtension);
        }
        cmd.add("-Xmx" + workerHeap);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), TrainSpeedBench.class.getName(),
                "--worker", v.name(), "--profile", profile.name(), "--batch", Integer.toString(batch),
                "--steps", Integer.toString(steps), "--block", Integer.toString(block), "--warmup", Integer.toString(warmup),
                "--threads", Integer.toString(threads)));
        return runChild(cmd, "nd4j/" + v + " batch " + batch);
    }

    private Optional<Measurement> runTorchJvm(int batch) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("-D")) {
                cmd.add(arg); // the JavaCPP cache dir
            }
        }
        cmd.add("-Xmx" + workerHeap);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), TrainSpeedBench.class.getName(),
                "--torch-worker", "--profile", profile.name(), "--batch", Integer.toString(batch),
                "--steps", Integer.toString(steps), "--block", Integer.toString(block), "--warmup", Integer.toString(warmup),
                "--threads", Integer.toString(threads)));
        return runChild(cmd, "torch engine batch " + batch);
    }

    private Optional<Measurement> runPeer(Path script, int batch) throws IOException, InterruptedException {
        AlexNetSpec spec = profile.spec;
        List<String> cmd = List.of(python.toString(), script.toString(), "--batch", Integer.toString(batch),
                "--steps", Integer.toString(steps), "--block", Integer.toString(block), "--warmup", Integer.toString(warmup),
                "--threads", Integer.toString(threads), "--size", Integer.toString(spec.inputSize()),
                "--classes", Integer.toString(spec.classes()), "--pad1", Integer.toString(spec.conv1Padding()),
                "--widths", spec.conv1() + "," + spec.conv2() + "," + spec.conv3() + "," + spec.conv4() + "," + spec.conv5() + "," + spec.fc());
        return runChild(cmd, "pytorch batch " + batch);
    }

    private Optional<Measurement> runChild(List<String> cmd, String label) throws IOException, InterruptedException {
        System.out.println("# running " + label);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("OMP_NUM_THREADS", Integer.toString(threads));
        Process p = pb.start();
        Measurement m = null;
        List<String> tail = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                Optional<Measurement> parsed = Measurement.parse(line);
                if (parsed.isPresent()) {
                    m = parsed.get();
                    System.out.println(line);
                } else if (line.startsWith("# ")) {
                    System.out.println(line);
                } else {
                    tail.add(line);
                    if (tail.size() > 20) {
                        tail.remove(0);
                    }
                }
            }
        }
        int rc = p.waitFor();
        if (m == null || rc != 0) {
            System.out.println("# " + label + " failed (exit " + rc + "); last output:");
            tail.forEach(l -> System.out.println("#   " + l));
            return Optional.empty();
        }
        return Optional.of(m);
    }

    private void report(List<Measurement> all, boolean withPeer) {
        System.out.println();
        System.out.println("| engine | variant | profile | batch | img/s | step s | CPU-s/step | system CPU | minor faults/step | peak RSS MB | ratio img/s vs PyTorch |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|---|");
        Map<Integer, Measurement> peerByBatch = new LinkedHashMap<>();
        Map<Integer, Measurement> fastByBatch = new LinkedHashMap<>();
        Map<Integer, Measurement> torchByBatch = new LinkedHashMap<>();
        List<String> rows = new ArrayList<>();
        for (int batch : batches) {
            Optional<Measurement> peer = median(all, "pytorch", "pytorch", batch);
            peer.ifPresent(m -> peerByBatch.put(batch, m));
            for (Variant v : variants) {
                median(all, "nd4j", v.name(), batch).ifPresent(m -> {
                    if (v == variants.get(0)) {
                        fastByBatch.put(batch, m);
                    }
                    rows.add(row(m, peer.map(pm -> m.imgPerS() / pm.imgPerS()).orElse(Double.NaN)));
                });
            }
            median(all, "torch", "libtorch", batch).ifPresent(m -> {
                torchByBatch.put(batch, m);
                rows.add(row(m, peer.map(pm -> m.imgPerS() / pm.imgPerS()).orElse(Double.NaN)));
            });
            peer.ifPresent(m -> rows.add(row(m, 1.0)));
        }
        rows.forEach(System.out::println);

        StringBuilder summary = new StringBuilder();
        int big = batches.get(batches.size() - 1);
        boolean torchFirst = engines.get(0).equals("torch");
        Map<Integer, Measurement> mainByBatch = torchFirst ? torchByBatch : fastByBatch;
        Measurement nd4jBig = mainByBatch.get(big);
        double minRatio = Double.NaN;
        StringBuilder perBatch = new StringBuilder();
        for (int batch : batches) {
            Measurement n = mainByBatch.get(batch);
            Measurement t = peerByBatch.get(batch);
            Measurement second = torchFirst ? fastByBatch.get(batch) : torchByBatch.get(batch);
            if (second != null && t != null) {
                perBatch.append(String.format(Locale.ROOT, " %s_ratio_b%d=%.3f %s_img_s_b%d=%.2f", torchFirst ? "dl4j" : "torch", batch,
                        second.imgPerS() / t.imgPerS(), torchFirst ? "dl4j" : "torch", batch, second.imgPerS()));
            }
            if (n != null && t != null) {
                double ratio = n.imgPerS() / t.imgPerS();
                minRatio = Double.isNaN(minRatio) ? ratio : Math.min(minRatio, ratio);
                perBatch.append(String.format(Locale.ROOT, " ratio_b%d=%.3f cpu_ratio_b%d=%.3f mem_ratio_b%d=%.3f"
                                + " cpu_s_b%d=%.4f peer_cpu_s_b%d=%.4f sys_share_b%d=%.3f peer_sys_share_b%d=%.3f"
                                + " minflt_step_b%d=%.0f peer_minflt_step_b%d=%.0f rss_mb_b%d=%d peer_rss_mb_b%d=%d",
                        batch, ratio, batch, t.cpuS() / n.cpuS(), batch, (double) n.peakRssMb() / t.peakRssMb(),
                        batch, n.cpuS(), batch, t.cpuS(), batch, n.sysShare(), batch, t.sysShare(),
                        batch, n.minfltPerStep(), batch, t.minfltPerStep(), batch, n.peakRssMb(), batch, t.peakRssMb()));
            }
        }
        summary.append(profile == Profile.paper ? "what=alexnet_train_" : "what=alexnet_" + profile + "_train_")
                .append(torchFirst ? "torch" : variants.get(0).name()).append("_b").append(big)
                .append(String.format(Locale.ROOT, " value=%.3f", nd4jBig == null ? Double.NaN : nd4jBig.imgPerS()))
                .append(" unit=img/s")
                .append(" peer=").append(withPeer && peerByBatch.containsKey(big) ? "pytorch-" + peerByBatch.get(big).info() : "none")
                .append(String.format(Locale.ROOT, " ratio=%.3f", minRatio))
                .append(perBatch)
                .append(" profile=").append(profile)
                .append(" threads=").append(threads).append(" steps=").append(steps).append(" block=").append(block)
                .append(" rounds=").append(rounds);
        System.out.println();
        System.out.println(summary);
    }

    private String row(Measurement m, double ratio) {
        return String.format(Locale.ROOT, "| %s | %s | %s | %d | %.2f | %.4f | %.4f | %.1f%% | %.0f | %d | %s |", m.engine(), m.variant(),
                profile, m.batch(), m.imgPerS(), m.stepS(), m.cpuS(), 100 * m.sysShare(), m.minfltPerStep(), m.peakRssMb(),
                Double.isNaN(ratio) ? "-" : String.format(Locale.ROOT, "%.2f", ratio));
    }

    private static Optional<Measurement> median(List<Measurement> all, String engine, String variant, int batch) {
        List<Measurement> ms = all.stream()
                .filter(m -> m.engine().equals(engine) && m.variant().equals(variant) && m.batch() == batch)
                .sorted((a, b) -> Double.compare(a.imgPerS(), b.imgPerS()))
                .toList();
        return ms.isEmpty() ? Optional.empty() : Optional.of(ms.get(ms.size() / 2));
    }

    // ---------------------------------------------------------------- worker side

    private void runWorker(Variant v, int batch) throws IOException {
        boolean genericBuild = v == Variant.shipped || v == Variant.generic_helpers;
        if (genericBuild) {
            System.setProperty(NativeBuildSelector.EXTENSION_PROPERTY, "");
        } else {
            System.out.println("# " + NativeBuildSelector.selectBeforeNd4jLoads().reason());
        }
        // threads: OMP_NUM_THREADS, set by the parent, is what libnd4j and OpenBLAS read at load
        // the trainer's own network and momentum updater: the paper's AlexNet at 227x227, or the small profile
        AlexNetSpec spec = profile.spec;
        ComputationGraph net = AlexNet.build(spec);
        String helpers = "none";
        if (v == Variant.fast || v == Variant.generic_helpers || v == Variant.onednn_pooling) {
            LayerHelpers.Result r = LayerHelpers.enable(net);
            helpers = r.kind() + "(" + r.helpers() + "/" + r.candidates() + ")";
            if (v == Variant.onednn_pooling) {
                Layer[] pools = java.util.Arrays.stream(net.getLayers())
                        .filter(l -> l instanceof org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer).toArray(Layer[]::new);
                helpers += "-minus-" + LayerHelpers.disable(pools) + "-pooling";
            }
        } else {
            LayerHelpers.disable(net);
            NetworkSizeTuning.reset(); // DL4J as shipped: ND4J's BLAS threads, no malloc thresholds for small networks
        }
        INDArray x = Nd4j.rand(DataType.FLOAT, batch, 3, spec.inputSize(), spec.inputSize());
        INDArray y = Nd4j.zeros(DataType.FLOAT, batch, spec.classes());
        for (int i = 0; i < batch; i++) {
            y.putScalar(i, i % spec.classes(), 1f);
        }
        DataSet ds = new DataSet(x, y);
        Timing t = time(i -> {
            net.fit(ds);
            return net.score();
        });
        int fallbacks = LayerHelpers.fallbacks(net);
        if (fallbacks > 0) {
            helpers += "-but-" + fallbacks + "-fell-back";
        }
        double stepS = t.stepSeconds();
        System.out.printf(Locale.ROOT, "engine=nd4j variant=%s batch=%d img_s=%.3f step_s=%.5f cpu_s=%.5f sys_share=%.4f minflt_step=%.1f "
                        + "peak_rss_mb=%d helpers=%s build=%s%n",
                v, batch, batch / stepS, stepS, t.cpuSeconds(), t.used().systemShare(), t.faultsPerStep(),
                peakRssMb(), helpers, "linux-x86_64" + System.getProperty(NativeBuildSelector.EXTENSION_PROPERTY, ""));
    }

    /** The torch engine's step on the same network and random input, timed the same way. */
    private void runTorchWorker(int batch) throws IOException {
        AlexNetSpec spec = profile.spec;
        int side = spec.inputSize();
        java.util.SplittableRandom r = new java.util.SplittableRandom(1);
        float[] x = new float[batch * 3 * side * side];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextDouble();
        }
        int[] labels = new int[batch];
        for (int i = 0; i < batch; i++) {
            labels[i] = i % spec.classes();
        }
        Batch data = new Batch(batch, 3, side, side, x, labels);
        try (TorchEngine engine = new TorchEngine(spec, "cpu")) {
            Timing t = time(i -> engine.trainStep(data, i));
            double stepS = t.stepSeconds();
            System.out.printf(Locale.ROOT, "engine=torch variant=libtorch batch=%d img_s=%.3f step_s=%.5f cpu_s=%.5f sys_share=%.4f "
                            + "minflt_step=%.1f peak_rss_mb=%d helpers=libtorch-2.10%n",
                    batch, batch / stepS, stepS, t.cpuSeconds(), t.used().systemShare(), t.faultsPerStep(), peakRssMb());
        }
    }

    /** Median seconds and CPU-seconds of a step, and what the timed steps cost the process. */
    record Timing(double stepSeconds, double cpuSeconds, ProcStat used, long steps) {
        double faultsPerStep() {
            return (double) used.minorFaults() / steps;
        }
    }

    /** Warm-up steps, then {@code steps / block} timed samples of {@code block} steps; {@code step} trains step i and returns its loss. */
    private Timing time(java.util.function.IntToDoubleFunction step) {
        for (int i = 0; i < warmup; i++) {
            step.applyAsDouble(i);
        }
        int samples = Math.max(1, steps / block);
        double[] wall = new double[samples];
        double[] cpu = new double[samples];
        ProcStat before = ProcStat.self();
        for (int s = 0; s < samples; s++) {
            long c0 = processCpuNanos();
            long t0 = System.nanoTime();
            double loss = Double.NaN;
            for (int i = 0; i < block; i++) {
                loss = step.applyAsDouble(warmup + s * block + i);
            }
            wall[s] = (System.nanoTime() - t0) / 1e9 / block;
            cpu[s] = (processCpuNanos() - c0) / 1e9 / block;
            System.out.printf(Locale.ROOT, "# step%s %d: %.4f s, %.4f CPU-s, loss %.4f%n", block > 1 ? "s (mean of " + block + ")" : "",
                    s, wall[s], cpu[s], loss);
        }
        return new Timing(medianOf(wall), medianOf(cpu), ProcStat.self().minus(before), (long) samples * block);
    }

    /** Minor page faults and user/system CPU ticks of this process, from /proc/self/stat; zeros where it is missing. */
    record ProcStat(long minorFaults, long userTicks, long systemTicks) {
        static ProcStat self() {
            try {
                String stat = Files.readString(Path.of("/proc/self/stat"));
                // fields after the command name (which may hold spaces), from field 3 (state) on
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
                return new ProcStat(Long.parseLong(f[7]), Long.parseLong(f[11]), Long.parseLong(f[12]));
            } catch (IOException | RuntimeException e) {
                return new ProcStat(0, 0, 0);
            }
        }

        ProcStat minus(ProcStat earlier) {
            return new ProcStat(minorFaults - earlier.minorFaults, userTicks - earlier.userTicks, systemTicks - earlier.systemTicks);
        }

        /** System time / (user + system time); NaN when no tick passed. */
        double systemShare() {
            long all = userTicks + systemTicks;
            return all == 0 ? Double.NaN : (double) systemTicks / all;
        }
    }

    /** CPU time of the whole process, native OpenMP threads included (ThreadMXBean would miss them). */
    static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** Peak resident set size (VmHWM) of this process in MB; -1 where /proc is missing. */
    static long peakRssMb() throws IOException {
        Path status = Path.of("/proc/self/status");
        if (!Files.exists(status)) {
            return -1;
        }
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
            }
        }
        return -1;
    }

    static double medianOf(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}
