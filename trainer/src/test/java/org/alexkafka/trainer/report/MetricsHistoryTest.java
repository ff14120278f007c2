package org.alexkafka.trainer.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsHistoryTest {

  @Test
  void readsTheCurrentRowsAndSkipsATornLastLine(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("metrics.jsonl");
    Files.writeString(file, """
        {"kind":"start","time":"2026-01-01T10:00:00Z","epoch":1,"iteration":0,"engine":"dl4j","device":"cpu","parameters":1234,"seed":7,"git_commit":"abc","train_images":300,"java":"17","config":{"batchSize":128,"lr":{"initial":0.01}}}
        {"kind":"epoch","time":"2026-01-01T10:00:01Z","epoch":1,"iteration":0,"train_offsets":3000}
        {"kind":"train","time":"2026-01-01T10:00:10Z","epoch":1,"iteration":40,"samples":5120,"loss":2.5,"top1_error":0.75,"top5_error":0.25,"images_per_second":12.5,"data_seconds":1.0,"compute_seconds":3.0,"learning_rate":0.01}
        {"kind":"eval","time":"2026-01-01T10:00:20Z","epoch":1,"iteration":40,"images":500,"top1_error":0.6,"top5_error":0.2,"ten_view_images":500,"ten_view_top1_error":0.55,"ten_view_top5_error":0.18}
        {"kind":"epoch","time":"2026-01-01T10:00:21Z","epoch":2,"iteration":40,"train_offsets":3002}
        {"kind":"lr","time":"2026-01-01T10:00:21Z","epoch":1,"iteration":40,"from":0.01,"to":0.001,"reduction":1,"reason":"plateau"}
        {"kind":"train","time":"2026-01-01T10:01:10Z","epoch":2,"iteration":60,"loss":2.1,"top1_error":0.5,"top5_error":0.1,"images_per_second":13,"data_seconds":0,"compute_seconds":2,"learning_rate":0.001}
        {"kind":"end","time":"2026-01-01T10:02:00Z","epoch":2,"iteration":60,"samples":7680,"reason":"PLATEAU","description":"stopped improving","learning_rate":0.001}
        {"kind":"train","epoch":1,"iter""");

    MetricsHistory.Series series = MetricsHistory.read(file);

    assertThat(series.training()).hasSize(2);
    TrainPoint first = series.training().get(0);
    assertThat(first.iteration()).isEqualTo(40);
    assertThat(first.top1Error()).isEqualTo(0.75);
    assertThat(first.top5Error()).isEqualTo(0.25);
    assertThat(first.dataWaitFraction()).isEqualTo(0.25);
    assertThat(first.elapsedSeconds()).isEqualTo(10.0);
    assertThat(series.training().get(1).elapsedSeconds()).isEqualTo(70.0);
    assertThat(series.training().get(1).learningRate()).isEqualTo(0.001);
    assertThat(series.evaluations()).containsExactly(new EvalPoint(40, 1, 0.6, 0.2, 0.55, 0.18, 500));
    assertThat(series.epochs()).containsExactly(new EpochStart(1, 0, 3000), new EpochStart(2, 40, 3002));
    assertThat(series.rateChanges()).containsExactly(new RateChange(40, 1, 0.01, 0.001, "plateau"));
    assertThat(series.end()).isEqualTo(new RunEndPoint(60, 2, "PLATEAU", "stopped improving",
        Instant.parse("2026-01-01T10:02:00Z")));
    assertThat(series.starts()).hasSize(1);
    RunStart start = series.starts().get(0);
    assertThat(start.engine()).isEqualTo("dl4j");
    assertThat(start.trainImages()).isEqualTo(300);
    assertThat(start.config().path("lr").path("initial").asDouble()).isEqualTo(0.01);
  }

  @Test
  void readsFilesOfOlderTrainersWhoseTop1WasAnAccuracy(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("metrics.jsonl");
    Files.writeString(file, """
        {"kind":"train","epoch":1,"iteration":40,"samples":5120,"loss":2.5,"top1":0.25,"top5":0.75,"imagesPerSecond":12.5,"dataSeconds":1.0,"computeSeconds":3.0,"learningRate":0.01}
        {"kind":"eval","epoch":1,"iteration":40,"images":500,"top1Error":0.6,"top5Error":0.2,"tenViewImages":500,"tenViewTop1Error":0.55,"tenViewTop5Error":0.18}
        {"kind":"train","epoch":2,"iteration":60,"loss":2.1,"top1":0.5,"top5":0.9,"imagesPerSecond":13,"dataSeconds":0,"computeSeconds":2,"learningRate":0.001}
        """);

    MetricsHistory.Series series = MetricsHistory.read(file);

    TrainPoint first = series.training().get(0);
    assertThat(first.top1Error()).isEqualTo(0.75);
    assertThat(first.top5Error()).isEqualTo(0.25);
    assertThat(first.imagesPerSecond()).isEqualTo(12.5);
    assertThat(first.dataWaitFraction()).isEqualTo(0.25);
    assertThat(first.elapsedSeconds()).isNaN(); // no times in these rows
    assertThat(series.training().get(1).learningRate()).isEqualTo(0.001);
    assertThat(series.evaluations()).containsExactly(new EvalPoint(40, 1, 0.6, 0.2, 0.55, 0.18, 500));
    // no epoch rows: the epochs begin where the train rows' epoch number changes
    assertThat(series.epochs()).containsExactly(new EpochStart(1, 40, -1), new EpochStart(2, 60, -1));
    assertThat(series.starts()).isEmpty();
    assertThat(series.end()).isNull();
  }

  @Test
  void aRestartAfterAnEndRowMeansTheRunGoesOn(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("metrics.jsonl");
    Files.writeString(file, """
        {"kind":"end","time":"2026-01-01T10:02:00Z","epoch":2,"iteration":60,"reason":"MAX_ITERATIONS","description":"limit"}
        {"kind":"start","time":"2026-01-01T11:00:00Z","epoch":2,"iteration":60,"engine":"torch","device":"cuda:0","seed":7,"config":{}}
        """);

    MetricsHistory.Series series = MetricsHistory.read(file);

    assertThat(series.end()).isNull();
    assertThat(series.starts()).extracting(RunStart::device).containsExactly("cuda:0");
  }
}
