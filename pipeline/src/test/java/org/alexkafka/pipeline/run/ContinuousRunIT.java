package org.alexkafka.pipeline.run;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.alexkafka.pipeline.demo.SyntheticImageSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Continuous mode: with a watched folder, images added later are ingested and trained on. */
class ContinuousRunIT {

  private static final List<String> CLASSES = List.of(SyntheticImageSet.Shape.DISC.classId(), SyntheticImageSet.Shape.SQUARE.classId());

  /** Copies {@code count} images per class of {@code split}, starting at {@code from}, into the watched folder. */
  private static int copy(Path source, Path watched, String split, int from, int count) throws Exception {
    int copied = 0;
    for (String cls : CLASSES) {
      List<Path> files;
      try (Stream<Path> s = Files.list(source.resolve(split).resolve(cls))) {
        files = s.sorted().toList();
      }
      Path target = Files.createDirectories(watched.resolve(split).resolve(cls));
      for (Path f : files.subList(from, from + count)) {
        Files.copy(f, target.resolve(f.getFileName()));
        copied++;
      }
    }
    return copied;
  }

  /** The span of the newest checkpoint's epoch on samples.train (the sum of its end offsets); -1 before the first. */
  private static long newestEpochSpan(Path checkpoints) throws Exception {
    if (!Files.isDirectory(checkpoints)) {
      return -1;
    }
    // the store's own view: a checkpoint being written (in a hidden temporary directory) is not one yet
    Path newest = new org.alexkafka.trainer.checkpoint.CheckpointStore(checkpoints, 1).latest().orElse(null);
    if (newest == null) {
      return -1;
    }
    JsonNode ends = new ObjectMapper().readTree(newest.resolve("state.json").toFile()).path("cursor").path("endOffsets");
    long sum = 0;
    for (JsonNode n : ends) {
      sum += n.asLong();
    }
    return sum;
  }

  @Test
  void imagesAddedWhileRunningAreIngestedAndJoinTheNextEpoch(@TempDir Path tmp) throws Exception {
    Path source = tmp.resolve("all");
    SyntheticImageSet.write(source, 60, 10, 80, 7);
    Path watched = Files.createDirectories(tmp.resolve("watched"));
    int initialTrain = copy(source, watched, "train", 0, 20);
    int initialVal = copy(source, watched, "val", 0, 10);
    int variants = 4;
    RunConfig config = new RunConfig(watched, tmp.resolve("work"), 72, 64, variants, Duration.ZERO, 32, 1, true, 7);
    PipelineRun run = new PipelineRun(config, new SimpleMeterRegistry());
    CompletableFuture<PipelineRun.Outcome> outcome = CompletableFuture.supplyAsync(() -> {
      try {
        return run.run();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    try {
      assertThat(run.awaitTraining(Duration.ofMinutes(5))).isTrue();
      Path checkpoints = tmp.resolve("work/checkpoints");
      // first epochs: only the first images
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
      long firstSpan = newestEpochSpan(checkpoints);
      while (firstSpan <= 0 && System.nanoTime() < deadline) {
        Thread.sleep(500);
        firstSpan = newestEpochSpan(checkpoints);
      }
      assertThat(firstSpan).as("a first checkpoint").isPositive();
      assertThat(firstSpan).isLessThan((long) (initialTrain + 40) * variants);

      int added = copy(source, watched, "train", 20, 40);
      long expected = (long) (initialTrain + added) * variants;
      deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
      try (TopicProbe probe = new TopicProbe(run.kafka())) {
        String samples = run.kafka().topics().samplesTrain();
        while (probe.records(samples) < expected && System.nanoTime() < deadline) {
          Thread.sleep(500); // the watcher publishes the new files, augment turns them into samples
        }
        assertThat(probe.records(samples)).as("samples of the added images").isEqualTo(expected);
        long allSamples = probe.endOffsetSum(samples);
        long span = newestEpochSpan(checkpoints);
        while (span < allSamples && System.nanoTime() < deadline) {
          Thread.sleep(500);
          span = newestEpochSpan(checkpoints);
        }
        assertThat(span).as("a later epoch spans the samples of the added images").isGreaterThanOrEqualTo(allSamples);
      }
    } finally {
      run.stop();
    }
    PipelineRun.Outcome done = outcome.get(3, TimeUnit.MINUTES);
    assertThat(done.ingest().published()).isEqualTo(initialTrain + initialVal);
    assertThat(done.trainSamples()).isEqualTo((long) (initialTrain + 40 * CLASSES.size()) * variants);
    assertThat(done.training().samplesTrained()).isGreaterThan((long) initialTrain * variants);
  }
}
