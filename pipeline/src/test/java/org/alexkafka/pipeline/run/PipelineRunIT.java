package org.alexkafka.pipeline.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.alexkafka.trainer.report.TrainingReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The one-JVM pipeline end to end on real photos (testdata/imagenette-mini: 10 classes,
 * 60 train + 20 val each), small profile, through the embedded broker.
 */
class PipelineRunIT {

  private static Path projectData() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.isDirectory(dir.resolve("testdata"))) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException("testdata not found above " + Path.of("").toAbsolutePath());
    }
    return dir.resolve("testdata");
  }

  @Test
  void imagenetteMiniFromFilesToAnEvaluatedCheckpointAndAReport(@TempDir Path work) throws Exception {
    Path images = projectData().resolve("imagenette-mini");
    long files;
    try (Stream<Path> all = Files.walk(images)) {
      files = all.filter(Files::isRegularFile).count();
    }
    RunConfig config = new RunConfig(images, work, 72, 64, 8, Duration.ofSeconds(150), 32, 1, false, 2012);

    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    java.util.Set<String> meters = java.util.concurrent.ConcurrentHashMap.newKeySet();
    registry.config().onMeterAdded(m -> meters.add(m.getId().getName()));

    PipelineRun.Outcome outcome = new PipelineRun(config, registry).run();

    // every file accounted for
    assertThat(outcome.ingest().published() + outcome.ingest().rejected()).isEqualTo(files);
    assertThat(outcome.ingest().published()).isEqualTo(800);
    assertThat(outcome.classes()).isEqualTo(10);
    // K variants per training image, 10 views per validation image
    assertThat(outcome.trainSamples()).isEqualTo(600 * 8);
    assertThat(outcome.valSamples()).isEqualTo(200 * 10);
    // learned something real on held-out photos
    var eval = outcome.training().lastEval();
    assertThat(eval.images()).isEqualTo(200);
    // 0.10 below chance is 5 standard errors of a chance-level score on 200 images: real learning, yet
    // within reach of a 150 s budget on a loaded 2-core machine (0.69-0.76 measured)
    assertThat(eval.centreTop1Error()).as("held-out top-1 error (chance %.2f)", outcome.chanceTop1Error())
        .isLessThan(outcome.chanceTop1Error() - 0.10);
    // checkpoint, metrics and report on disk
    try (Stream<Path> checkpoints = Files.list(outcome.checkpointDir())) {
      assertThat(checkpoints.filter(p -> Files.exists(p.resolve("parameters.npz")))).isNotEmpty();
    }
    assertThat(Files.readAllLines(outcome.metricsFile())).anyMatch(l -> l.contains("\"kind\":\"eval\""));
    assertThat(outcome.report()).exists();
    assertThat(outcome.report().resolveSibling(TrainingReport.CHARTS.get(0))).exists();
    // what each service exposes for Prometheus, consumer lag included
    assertThat(meters).contains("ingest.images.published", "augment.samples", "trainer.loss", "trainer.images.trained",
        "trainer.data.wait", "trainer.val.top1.error");
    assertThat(meters).anyMatch(name -> name.contains("records.lag"));
  }
}
