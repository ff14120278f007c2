package org.alexkafka.trainer.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsHistoryTest {

  @Test
  void readsTrainAndEvalRowsAndSkipsATornLastLine(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("metrics.jsonl");
    Files.writeString(file, """
        {"kind":"train","epoch":1,"iteration":40,"samples":5120,"loss":2.5,"top1":0.25,"top5":0.75,"imagesPerSecond":12.5,"dataSeconds":1.0,"computeSeconds":3.0,"learningRate":0.01}
        {"kind":"eval","epoch":1,"iteration":40,"images":500,"top1Error":0.6,"top5Error":0.2,"tenViewImages":500,"tenViewTop1Error":0.55,"tenViewTop5Error":0.18}
        {"kind":"train","epoch":1,"iteration":60,"loss":2.1,"top1":0.5,"top5":0.9,"imagesPerSecond":13,"dataSeconds":0,"computeSeconds":2,"learningRate":0.001}
        {"kind":"train","epoch":1,"iter""");

    MetricsHistory.Series series = MetricsHistory.read(file);

    assertThat(series.training()).hasSize(2);
    TrainPoint first = series.training().get(0);
    assertThat(first.iteration()).isEqualTo(40);
    assertThat(first.top1Error()).isEqualTo(0.75);
    assertThat(first.top5Error()).isEqualTo(0.25);
    assertThat(first.dataWaitFraction()).isEqualTo(0.25);
    assertThat(series.training().get(1).learningRate()).isEqualTo(0.001);
    assertThat(series.evaluations()).containsExactly(new EvalPoint(40, 1, 0.6, 0.2, 0.55, 0.18));
  }
}
