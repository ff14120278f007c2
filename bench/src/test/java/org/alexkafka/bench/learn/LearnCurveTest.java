package org.alexkafka.bench.learn;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LearnCurveTest {

  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  @TempDir
  Path tmp;

  static String train(int epoch, long iteration, double lr) {
    return "{\"kind\":\"train\",\"time\":\"2026-01-01T00:00:01Z\",\"epoch\":" + epoch + ",\"iteration\":" + iteration
        + ",\"samples\":0,\"loss\":2.0,\"learning_rate\":" + lr + "}";
  }

  static String eval(int epoch, long iteration, int second, double top1, double tenView) {
    return "{\"kind\":\"eval\",\"time\":\"2026-01-01T00:00:" + String.format("%02d", second) + ".500Z\",\"epoch\":" + epoch
        + ",\"iteration\":" + iteration + ",\"images\":200,\"top1_error\":" + top1 + ",\"top5_error\":0.2,"
        + "\"ten_view_images\":200,\"ten_view_top1_error\":" + tenView + ",\"ten_view_top5_error\":0.1}";
  }

  @Test
  void readsTheTrainersMetrics() throws Exception {
    // 100 samples, batch 32: 4 steps per epoch (the last one 4 samples)
    List<String> rows = List.of(
        train(1, 2, 0.01), eval(1, 4, 10, 0.8, 0.7),
        "{\"kind\":\"lr\",\"time\":\"2026-01-01T00:00:11Z\",\"epoch\":2,\"iteration\":8,\"from\":0.01,\"to\":0.001}",
        train(2, 6, 0.01), eval(2, 8, 20, 0.6, 0.5),
        train(3, 10, 0.001), eval(3, 10, 25, 0.55, 0.45),
        "{\"kind\":\"end\",\"time\":\"2026-01-01T00:00:26Z\",\"epoch\":3,\"iteration\":10,\"reason\":\"TIME_LIMIT\"}", "");
    LearnCurve c = LearnCurve.fromMetrics(rows, T0, 32, 100);
    assertThat(c.points()).hasSize(3);
    LearnCurve.Point p1 = c.points().get(0);
    assertThat(p1.epochEnd()).isTrue();
    assertThat(p1.samples()).isEqualTo(100);
    assertThat(p1.seconds()).isEqualTo(10.5);
    assertThat(p1.top1()).isEqualTo(0.8);
    assertThat(p1.top1TenView()).isEqualTo(0.7);
    assertThat(p1.lr()).isEqualTo(0.01);
    LearnCurve.Point last = c.points().get(2);
    assertThat(last.epochEnd()).as("stopped by time in epoch 3").isFalse();
    assertThat(last.samples()).isEqualTo(200 + 2 * 32);
    assertThat(last.lr()).isEqualTo(0.001);
    assertThat(c.epochsDone()).isEqualTo(2);
    assertThat(c.atEpoch(2)).map(LearnCurve.Point::top1).contains(0.6);
    assertThat(c.atEpoch(3)).isEmpty();

    c.write(tmp.resolve("c.jsonl"));
    assertThat(LearnCurve.read(tmp.resolve("c.jsonl"))).isEqualTo(c);
  }

  @Test
  void atEqualTimeEachSideShowsItsLastEvaluationByThen() {
    LearnCurve c = curve(new double[] {10, 20, 30}, new double[] {0.9, 0.7, 0.6});
    assertThat(c.lastBy(5)).isEmpty();
    assertThat(c.lastBy(10)).map(LearnCurve.Point::top1).contains(0.9);
    assertThat(c.lastBy(29.9)).map(LearnCurve.Point::top1).contains(0.7);
    assertThat(c.lastBy(1e9)).map(LearnCurve.Point::top1).contains(0.6);
  }

  /** Epoch-end points at the given seconds, 100 samples per epoch; 10-view error = centre - 0.05. */
  static LearnCurve curve(double[] seconds, double[] top1) {
    List<LearnCurve.Point> points = new java.util.ArrayList<>();
    for (int i = 0; i < seconds.length; i++) {
      points.add(new LearnCurve.Point(i + 1, (i + 1) * 4L, (i + 1) * 100L, seconds[i], top1[i], Double.NaN, top1[i] - 0.05,
          Double.NaN, 0.01, true));
    }
    return new LearnCurve(points);
  }

  @Test
  void comparesAtEqualSamplesAndAtEqualTime() {
    // java: slower per epoch but better per sample; torch: 3 epochs in the time java does 2
    LearnCurve java = curve(new double[] {30, 60}, new double[] {0.6, 0.4});
    LearnCurve torch = curve(new double[] {20, 40, 60}, new double[] {0.8, 0.5, 0.45});
    LearnComparison c = new LearnComparison(List.of(new LearnComparison.Pair(1, java, torch)), 60);
    Map<String, String> s = c.summary();
    assertThat(s.get("epochs_equal")).isEqualTo("2");
    assertThat(s.get("top1_err_java_equal_samples")).isEqualTo("0.400");
    assertThat(s.get("top1_err_torch_equal_samples")).isEqualTo("0.500");
    assertThat(s.get("ratio_samples")).isEqualTo("0.800");
    assertThat(s.get("top1_err_java")).isEqualTo("0.400");
    assertThat(s.get("top1_err_torch")).isEqualTo("0.450");
    assertThat(s.get("ratio_time")).isEqualTo("0.889");
    assertThat(s.get("ratio_time_10v")).isEqualTo("0.875");
    assertThat(Double.parseDouble(s.get("ratio_speed"))).isCloseTo(200.0 / 300, org.assertj.core.data.Offset.offset(1e-3));

    String time = c.timeTable(c.pairs().get(0));
    // at 15 s (a quarter of 60) neither has evaluated; at 30 s java has epoch 1, torch epoch 1 (20 s)
    assertThat(time).contains("| 15 s | - |").contains("| 30 s | 1 | 100 | 0.600 | 0.550 | 1 | 100 | 0.800 | 0.750 | 0.750 | 0.733 |")
        .contains("| end | 2 | 200 | 0.400 |");
    String epochs = c.epochTable(c.pairs().get(0));
    assertThat(epochs).contains("| 3 | 300 | - | - | - | - | 60.0 | 0.450 |");
    assertThat(LearnComparison.line(Map.of("what", "learn"))).isEqualTo("what=learn");
  }

  @Test
  void withoutATimeBudgetEqualTimeIsWhenTheFasterSideFinished() {
    LearnCurve java = curve(new double[] {30, 60}, new double[] {0.6, 0.4});
    LearnCurve torch = curve(new double[] {20, 40}, new double[] {0.8, 0.5});
    LearnComparison c = new LearnComparison(List.of(new LearnComparison.Pair(1, java, torch)), 0);
    // torch ended at 40 s; java had evaluated epoch 1 (0.6) by then
    assertThat(c.summary().get("top1_err_java")).isEqualTo("0.600");
    assertThat(c.summary().get("top1_err_torch")).isEqualTo("0.500");
    assertThat(c.summary().get("ratio_time")).isEqualTo("1.200");
    assertThat(c.summary().get("ratio_samples")).isEqualTo("0.800");
    assertThat(c.timeTable(c.pairs().get(0))).contains("| 40 s | 1 | 100 | 0.600 |");
  }

  @Test
  void meansOverSeeds() {
    LearnCurve a = curve(new double[] {10, 20}, new double[] {0.6, 0.4});
    LearnCurve b = curve(new double[] {10, 20}, new double[] {0.5, 0.5});
    LearnComparison c = new LearnComparison(List.of(new LearnComparison.Pair(1, a, b), new LearnComparison.Pair(2, b, a)), 0);
    assertThat(c.summary().get("ratio_samples")).isEqualTo("1.000");
    assertThat(c.summary().get("seeds")).isEqualTo("1,2");
    assertThat(c.meanEpochTable()).contains("| 2 | 0.450 | 0.400 | 0.450 | 0.400 | 1.000 | 1.000 |");
  }
}
