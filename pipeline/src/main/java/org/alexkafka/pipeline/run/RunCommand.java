package org.alexkafka.pipeline.run;

import org.alexkafka.trainer.engine.EngineKind;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code alexkafka run}: the whole pipeline in one JVM on an embedded Kafka broker. */
@Command(name = "run", mixinStandardHelpOptions = true,
    description = {"The whole pipeline in one JVM on an embedded Kafka broker: ingest a folder (or a generated "
        + "demo set), augment, train the small profile for a bounded time, evaluate, and write the report."})
public final class RunCommand implements Callable<Integer> {

  @Option(names = "--images", defaultValue = "${env:RUN_IMAGES}",
      description = "Image folder in the ImageNet layout (<root>/[train|val]/<class>/*); none = the project's "
          + "testdata/imagenette-mini (10 ImageNet classes of real photos) (env RUN_IMAGES).")
  Path images;

  @Option(names = "--synthetic", defaultValue = "${env:RUN_SYNTHETIC:-false}",
      description = "Train on a generated set of four shapes instead: a smoke run, learnt within a minute (env RUN_SYNTHETIC).")
  boolean synthetic;

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--work-dir", defaultValue = "${env:RUN_WORK_DIR:-runs/latest}",
      description = "Where the broker data, checkpoints, metrics and report go (env RUN_WORK_DIR, default ${DEFAULT-VALUE}).")
  Path workDir;

  @Option(names = "--image-size", defaultValue = "${env:RUN_IMAGE_SIZE:-72}",
      description = "Side images are ingested at; the paper's is 256 (env RUN_IMAGE_SIZE, default ${DEFAULT-VALUE}).")
  int imageSize;

  @Option(names = "--crop-size", defaultValue = "${env:RUN_CROP_SIZE:-64}",
      description = "Side of the training crops; the paper's is 224 (env RUN_CROP_SIZE, default ${DEFAULT-VALUE}).")
  int cropSize;

  @Option(names = "--variants", defaultValue = "${env:RUN_VARIANTS:-8}",
      description = "Training variants per image (env RUN_VARIANTS, default ${DEFAULT-VALUE}).")
  int variants;

  @Option(names = "--minutes", defaultValue = "${env:RUN_MINUTES:-3}",
      description = "Training time in minutes (env RUN_MINUTES, default ${DEFAULT-VALUE}).")
  double minutes;

  @Option(names = "--batch", defaultValue = "${env:RUN_BATCH:-32}",
      description = "Training batch (env RUN_BATCH, default ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--devices", defaultValue = "${env:RUN_DEVICES:-1}",
      description = "Data-parallel workers (env RUN_DEVICES, default ${DEFAULT-VALUE}).")
  int devices;

  @Option(names = "--watch", defaultValue = "${env:RUN_WATCH:-false}",
      description = "Keep watching --images and keep training as images arrive, until Ctrl-C (env RUN_WATCH).")
  boolean watch;

  @Option(names = "--engine", defaultValue = "${env:RUN_ENGINE:-dl4j}",
      description = "The trainer's engine: dl4j or torch (env RUN_ENGINE, default ${DEFAULT-VALUE}).")
  String engine;

  @Option(names = "--seed", defaultValue = "${env:RUN_SEED:-2012}", description = "Seed of everything random (env RUN_SEED, default ${DEFAULT-VALUE}).")
  long seed;

  public RunConfig toConfig() {
    return new RunConfig(imageFolder(), workDir, imageSize, cropSize, variants, Duration.ofMillis((long) (minutes * 60_000)),
        batch, devices, watch, seed, 0, EngineKind.parse(engine));
  }

  /** --images; else null for --synthetic (the run generates its set); else the project's real photos. */
  private Path imageFolder() {
    if (images != null) {
      if (synthetic) {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "give --images or --synthetic, not both");
      }
      return images;
    }
    if (synthetic) {
      return null;
    }
    return projectPhotos().orElseThrow(() -> new picocli.CommandLine.ParameterException(spec.commandLine(),
        "no --images given and no testdata/imagenette-mini found above " + Path.of("").toAbsolutePath()
            + " or the distribution: give --images DIR (ImageNet layout) or --synthetic"));
  }

  /** testdata/imagenette-mini above the working directory or above the distribution's jar (a checkout's). */
  static java.util.Optional<Path> projectPhotos() {
    List<Path> starts = new java.util.ArrayList<>(List.of(Path.of("").toAbsolutePath()));
    try {
      starts.add(Path.of(RunCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toAbsolutePath());
    } catch (java.net.URISyntaxException | RuntimeException e) {
      // no code source: the working directory alone
    }
    for (Path start : starts) {
      for (Path dir = start; dir != null; dir = dir.getParent()) {
        Path candidate = dir.resolve("testdata").resolve("imagenette-mini");
        if (java.nio.file.Files.isDirectory(candidate.resolve("train"))) {
          return java.util.Optional.of(candidate);
        }
      }
    }
    return java.util.Optional.empty();
  }

  @Override
  public Integer call() throws Exception {
    PipelineRun.Outcome outcome = new PipelineRun(toConfig(), io.micrometer.core.instrument.Metrics.globalRegistry).run();
    System.out.println(outcome.describe());
    return 0;
  }
}
