package org.alexkafka.bench.learn;

import org.alexkafka.trainer.engine.EngineKind;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.alexkafka.pipeline.run.PipelineRun;
import org.alexkafka.pipeline.run.RunConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The learning bench: the {@code run} recipe (72 px images, 64 px crops, K stored variants, batch
 * 32, small profile, the paper's momentum, ε 0.01 with the plateau rule, evaluation each epoch)
 * trained from the topics through the one-JVM pipeline, and beside it the same recipe in PyTorch
 * ({@code bench/learn_torch.py}) on the very samples the trainer read, exported from the topics.
 * Seed by seed, one after the other (java, torch, java, torch...), each in a fresh process with
 * the same threads and the same time budget. Prints top-1 error (centre and 10 views) at equal
 * samples and at equal wall time, the ratios, and a key=value summary as the last line.
 */
@Command(name = "bench-learn", mixinStandardHelpOptions = true,
    description = {"Learning on real photos: the trainer through the one-JVM pipeline vs the same recipe in PyTorch on the "
        + "same exported samples; top-1 error (centre, 10 views) at equal samples and equal wall time."})
public final class LearnBench implements Callable<Integer> {

  static final String WORKER_JAVA = "java";

  @Option(names = "--images", defaultValue = "${env:BENCH_LEARN_IMAGES}",
      description = "Image folder in the ImageNet layout (default: testdata/imagenette-mini, looked up above the working directory).")
  Path images;

  @Option(names = "--work-dir", defaultValue = "${env:BENCH_LEARN_WORK_DIR:-runs/bench-learn}",
      description = "Where each seed's broker, run, export and curves go (seed-N/ is recreated; default ${DEFAULT-VALUE}).")
  Path workDir;

  @Option(names = "--minutes", defaultValue = "${env:BENCH_LEARN_MINUTES:-5}",
      description = "Training time budget of each side, per seed (0 = none: --epochs ends it; default ${DEFAULT-VALUE}).")
  double minutes;

  @Option(names = "--epochs", defaultValue = "${env:BENCH_LEARN_EPOCHS:-0}",
      description = "Most epochs each side trains (0 = no cap; default ${DEFAULT-VALUE}).")
  int epochs;

  @Option(names = "--seeds", defaultValue = "${env:BENCH_LEARN_SEEDS:-2}",
      description = "How many seeds: --seed, --seed+1, ... (default ${DEFAULT-VALUE}).")
  int seeds;

  @Option(names = "--seed", defaultValue = "${env:BENCH_LEARN_SEED:-2012}", description = "First seed (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--image-size", defaultValue = "72", description = "Side images are ingested at (default ${DEFAULT-VALUE}).")
  int imageSize;

  @Option(names = "--crop-size", defaultValue = "64", description = "Side of the crops (default ${DEFAULT-VALUE}).")
  int cropSize;

  @Option(names = "--variants", defaultValue = "8", description = "Stored training variants per image (default ${DEFAULT-VALUE}).")
  int variants;

  @Option(names = "--batch", defaultValue = "32", description = "Training batch (default ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--engine", defaultValue = "${env:BENCH_ENGINE:-dl4j}",
      description = "The Java side's engine: dl4j or torch (default ${DEFAULT-VALUE}).")
  String engine;

  @Option(names = "--threads", defaultValue = "${env:BENCH_THREADS:-2}",
      description = "Threads of both sides (OMP_NUM_THREADS; torch.set_num_threads; default ${DEFAULT-VALUE}).")
  int threads;

  @Option(names = "--python", defaultValue = "${env:BENCH_PYTHON:-/usr/bin/python3}", description = "Python with torch and numpy for the peer.")
  Path python;

  @Option(names = "--peer-script", defaultValue = "${env:BENCH_LEARN_SCRIPT:-bench/learn_torch.py}",
      description = "The PyTorch peer; a relative path is also looked up in parent folders.")
  Path peerScript;

  @Option(names = "--no-peer", description = "Only the Java side.")
  boolean noPeer;

  @Option(names = "--worker", hidden = true)
  String worker;

  @Override
  public Integer call() throws Exception {
    Path photos = images != null ? images : findUp(Path.of("testdata/imagenette-mini"))
        .orElseThrow(() -> new IllegalArgumentException("no --images given and no testdata/imagenette-mini above " + Path.of("").toAbsolutePath()));
    if (WORKER_JAVA.equals(worker)) {
      return javaWorker(photos, seedDir(seed));
    }
    Optional<Path> peer = noPeer ? Optional.empty() : findPeer();
    System.out.printf(Locale.ROOT, "# bench-learn: the %s engine, %s, %d px images, %d px crops, K = %d, batch %d, %s, %s, %d thread(s), seeds %d..%d%n",
        engine, photos, imageSize, cropSize, variants, batch, minutes > 0 ? minutes + " min per side" : "no time limit",
        epochs > 0 ? "at most " + epochs + " epochs" : "no epoch cap", threads, seed, seed + seeds - 1);
    List<LearnComparison.Pair> pairs = new ArrayList<>();
    String torchVersion = "none";
    for (int i = 0; i < seeds; i++) {
      long s = seed + i;
      Path dir = seedDir(s);
      recreate(dir);
      LearnCurve java = runJava(photos, s, dir);
      LearnCurve torch = new LearnCurve(List.of());
      if (peer.isPresent()) {
        Optional<String> version = runTorch(peer.get(), s, dir);
        if (version.isPresent()) {
          torchVersion = version.get();
          torch = LearnCurve.read(dir.resolve("torch-curve.jsonl"));
        }
      }
      pairs.add(new LearnComparison.Pair(s, java, torch));
    }
    report(new LearnComparison(pairs, minutes * 60), torchVersion);
    return 0;
  }

  private void report(LearnComparison c, String torchVersion) {
    for (LearnComparison.Pair p : c.pairs()) {
      System.out.println();
      System.out.println("## seed " + p.seed() + ": top-1 error at equal samples (each epoch; ratio = java / torch)");
      System.out.print(c.epochTable(p));
      System.out.println();
      System.out.println("## seed " + p.seed() + ": top-1 error at equal wall time (each side's last evaluation by then; end = its final one)");
      System.out.print(c.timeTable(p));
    }
    if (c.pairs().size() > 1) {
      System.out.println();
      System.out.println("## mean over seeds, at equal samples");
      System.out.print(c.meanEpochTable());
    }
    Map<String, String> kv = new LinkedHashMap<>();
    Map<String, String> s = c.summary();
    kv.put("what", "learn");
    kv.put("value", s.get("top1_err_java"));
    kv.put("unit", "top1_err");
    kv.put("peer", "pytorch-" + torchVersion);
    kv.put("ratio", s.get("ratio_time"));
    kv.putAll(s);
    kv.put("minutes", LearnComparison.f(minutes).replaceAll("0+$", "").replaceAll("\\.$", ""));
    kv.put("epochs_cap", Integer.toString(epochs));
    kv.put("engine", engine);
    System.out.println();
    System.out.println(LearnComparison.line(kv));
  }

  // ---------------------------------------------------------------- the Java side

  private LearnCurve runJava(Path photos, long s, Path dir) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (arg.startsWith("-D") || arg.startsWith("-Xmx") || arg.startsWith("-Xms") || arg.startsWith("-XX:")) {
        cmd.add(arg); // the JavaCPP cache dir, a native-build override, the heap
      }
    }
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "org.alexkafka.pipeline.cli.AlexKafkaCli", "bench-learn",
        "--worker", WORKER_JAVA, "--images", photos.toAbsolutePath().toString(), "--work-dir", workDir.toAbsolutePath().toString(),
        "--seed", Long.toString(s), "--minutes", Double.toString(minutes), "--epochs", Integer.toString(epochs),
        "--image-size", Integer.toString(imageSize), "--crop-size", Integer.toString(cropSize),
        "--variants", Integer.toString(variants), "--batch", Integer.toString(batch), "--threads", Integer.toString(threads),
        "--engine", engine));
    int rc = runChild(cmd, "java seed " + s, dir.resolve("java.log"), line ->
        line.startsWith("==> ") || line.contains("val images=") || line.startsWith("# ") || line.contains("learning rate"));
    Path curve = dir.resolve("java-curve.jsonl");
    if (rc != 0 || !Files.isRegularFile(curve)) {
      throw new IllegalStateException("the Java side of seed " + s + " failed (exit " + rc + "); see " + dir.resolve("java.log"));
    }
    return LearnCurve.read(curve);
  }

  /** In the child JVM: the pipeline, exporting the samples before training, then the curve. */
  private int javaWorker(Path photos, Path dir) throws Exception {
    Files.createDirectories(dir);
    RunConfig rc = new RunConfig(photos, dir.resolve("java"), imageSize, cropSize, variants,
        Duration.ofMillis(Math.round(minutes * 60_000)), batch, 1, false, seed, epochs, EngineKind.parse(engine));
    AtomicReference<Instant> start = new AtomicReference<>();
    AtomicReference<SampleExport.Summary> exported = new AtomicReference<>();
    PipelineRun run = new PipelineRun(rc, new SimpleMeterRegistry()).beforeTraining((kafka, trainerConfig) -> {
      try {
        long t0 = System.nanoTime();
        SampleExport.Summary summary = SampleExport.export(kafka, trainerConfig, dir.resolve("export"));
        exported.set(summary);
        System.out.printf(Locale.ROOT, "# exported %d training samples and %d validation views of %d images (%d rejected) to %s in %.1f s%n",
            summary.trainSamples(), summary.valViews(), summary.valImages(), summary.rejected(), summary.dir(),
            (System.nanoTime() - t0) / 1e9);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot export the samples to " + dir.resolve("export"), e);
      }
      start.set(Instant.now());
    });
    PipelineRun.Outcome outcome = run.run();
    System.out.println(outcome.describe());
    LearnCurve curve = LearnCurve.fromMetrics(Files.readAllLines(outcome.metricsFile(), StandardCharsets.UTF_8), start.get(),
        batch, exported.get().trainSamples());
    curve.write(dir.resolve("java-curve.jsonl"));
    System.out.println("# java curve: " + curve.points().size() + " evaluations");
    return 0;
  }

  // ---------------------------------------------------------------- the PyTorch side

  private Optional<String> runTorch(Path script, long s, Path dir) throws IOException, InterruptedException {
    List<String> cmd = List.of(python.toString(), script.toString(), "--export", dir.resolve("export").toString(),
        "--out", dir.resolve("torch-curve.jsonl").toString(), "--threads", Integer.toString(threads));
    List<String> versions = new ArrayList<>();
    int rc = runChild(cmd, "torch seed " + s, dir.resolve("torch.log"), line -> {
      if (line.startsWith("engine=pytorch")) {
        for (String part : line.split("\\s+")) {
          if (part.startsWith("torch=")) {
            versions.add(part.substring(6));
          }
        }
        return true;
      }
      return line.startsWith("# ");
    });
    if (rc != 0 || !Files.isRegularFile(dir.resolve("torch-curve.jsonl"))) {
      System.out.println("# the PyTorch side of seed " + s + " failed (exit " + rc + "); see " + dir.resolve("torch.log"));
      return Optional.empty();
    }
    return Optional.of(versions.isEmpty() ? "?" : versions.get(versions.size() - 1));
  }

  private Optional<Path> findPeer() {
    if (!Files.isExecutable(python)) {
      System.out.println("# peer: " + python + " not found; PyTorch side skipped (apt-get install -y python3-torch)");
      return Optional.empty();
    }
    Optional<Path> script = peerScript.isAbsolute() ? Optional.of(peerScript).filter(Files::isRegularFile) : findUp(peerScript);
    if (script.isEmpty()) {
      System.out.println("# peer: script " + peerScript + " not found; PyTorch side skipped");
      return Optional.empty();
    }
    try {
      Process p = new ProcessBuilder(python.toString(), "-c", "import torch, numpy").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
        System.out.println("# peer: " + python + " cannot import torch and numpy; PyTorch side skipped (apt-get install -y python3-torch)");
        return Optional.empty();
      }
    } catch (IOException e) {
      System.out.println("# peer: " + e + "; PyTorch side skipped");
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
    return script;
  }

  // ---------------------------------------------------------------- helpers

  /** Runs a child with the bench's thread count, its output to {@code log}; echoes the lines {@code echo} picks. */
  private int runChild(List<String> cmd, String label, Path log, java.util.function.Predicate<String> echo)
      throws IOException, InterruptedException {
    System.out.println("# running " + label + " (log: " + log + ")");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("OMP_NUM_THREADS", Integer.toString(threads));
    Process p = pb.start();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
         PrintWriter out = new PrintWriter(Files.newBufferedWriter(log, StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null; ) {
        out.println(line);
        if (echo.test(line)) {
          System.out.println("#   " + label + ": " + line);
        }
      }
    } finally {
      if (p.isAlive()) {
        p.destroy();
      }
    }
    return p.waitFor();
  }

  private Path seedDir(long s) {
    return workDir.resolve("seed-" + s);
  }

  /** Deletes a previous run of this seed (its broker and checkpoints would be resumed otherwise). */
  private static void recreate(Path dir) throws IOException {
    if (Files.exists(dir)) {
      try (Stream<Path> all = Files.walk(dir)) {
        for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
    Files.createDirectories(dir);
  }

  private static Optional<Path> findUp(Path relative) {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.exists(dir.resolve(relative))) {
        return Optional.of(dir.resolve(relative));
      }
    }
    return Optional.empty();
  }
}
