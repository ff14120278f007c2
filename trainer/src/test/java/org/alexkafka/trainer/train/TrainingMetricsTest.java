package org.alexkafka.trainer.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.alexkafka.trainer.eval.EvalResult;
import org.alexkafka.trainer.report.MetricsHistory;
import org.alexkafka.trainer.report.RunStart;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingMetricsTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  record Options(String profile, int batchSize) {}

  /** Every key of the row and of the objects in it. */
  private static List<String> keys(JsonNode node) {
    List<String> keys = new ArrayList<>();
    Iterator<String> names = node.fieldNames();
    while (names.hasNext()) {
      String name = names.next();
      keys.add(name);
      if (node.get(name).isObject() && !name.equals("config")) {
        keys.addAll(keys(node.get(name)));
      }
    }
    return keys;
  }

  @Test
  void rowsNameEachQuantityByWhatItIsAndTheReportReadsThemBack(@TempDir Path dir) throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    TrainingMetrics metrics = new TrainingMetrics(dir, registry);
    metrics.start(1, 0, new Options("small", 32), "dl4j", "cpu", 1234, 7, 300);
    metrics.epochStarted(1, 0, 3000);
    metrics.step(32, 2.0, 1_000_000, 9_000_000);
    metrics.step(32, 1.0, 1_000_000, 9_000_000);
    metrics.interval(1, 2, 64, 0.25, 0.75, 0.01); // accuracies in, errors out
    metrics.eval(1, 2, new EvalResult(50, 0.6, 0.2, 50, 0.55, 0.18, 0));
    metrics.learningRateChange(1, 2, 0.01, 0.001, 1, "plateau");
    metrics.end(1, 2, 64, "PLATEAU", "stopped improving", 0.001);

    List<JsonNode> rows = new ArrayList<>();
    for (String line : Files.readAllLines(metrics.file())) {
      rows.add(JSON.readTree(line));
    }
    assertThat(rows).extracting(r -> r.get("kind").asText()).containsExactly("start", "epoch", "train", "eval", "lr", "end");
    for (JsonNode row : rows) {
      assertThat(keys(row)).allMatch(k -> k.matches("[a-z0-9_]+"), "snake_case keys");
      assertThat(keys(row)).doesNotContain("top1", "top5", "accuracy");
    }
    JsonNode train = rows.get(2);
    assertThat(train.get("top1_error").asDouble()).isEqualTo(0.75);
    assertThat(train.get("top5_error").asDouble()).isEqualTo(0.25);
    assertThat(train.get("loss").asDouble()).isEqualTo(1.5);
    assertThat(train.get("data_seconds").asDouble()).isCloseTo(0.002, within(1e-12));
    assertThat(rows.get(3).get("ten_view_top1_error").asDouble()).isEqualTo(0.55);
    assertThat(rows.get(0).get("config").get("batchSize").asInt()).isEqualTo(32);
    assertThat(rows.get(0).get("git_commit").asText()).isNotBlank();

    MetricsHistory.Series series = MetricsHistory.read(metrics.file());
    assertThat(series.training().get(0).top1Error()).isEqualTo(0.75);
    assertThat(series.training().get(0).dataWaitFraction()).isCloseTo(0.1, within(1e-12));
    assertThat(series.evaluations().get(0).top1Error10View()).isEqualTo(0.55);
    assertThat(series.epochs().get(0).trainOffsets()).isEqualTo(3000);
    assertThat(series.starts()).extracting(RunStart::engine, RunStart::seed, RunStart::trainImages)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("dl4j", 7L, 300L));
    assertThat(series.end().reason()).isEqualTo("PLATEAU");
  }

  @Test
  void metersCountImagesInsteadOfGaugingARateAndGaugeErrors(@TempDir Path dir) {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    TrainingMetrics metrics = new TrainingMetrics(dir, registry);
    metrics.step(32, 2.0, 1_000_000, 9_000_000);
    metrics.step(16, 1.0, 1_000_000, 9_000_000);
    metrics.interval(1, 2, 48, 0.25, 0.75, 0.01);
    metrics.eval(1, 2, new EvalResult(50, 0.6, 0.2, 50, 0.55, 0.18, 0));

    assertThat(registry.get("trainer.images.trained").counter().count()).isEqualTo(48);
    assertThat(registry.get("trainer.iterations").counter().count()).isEqualTo(2);
    assertThat(registry.get("trainer.train.top1.error").gauge().value()).isEqualTo(0.75);
    assertThat(registry.get("trainer.val.top1.error").gauge().value()).isEqualTo(0.6);
    assertThat(registry.get("trainer.val.ten.view.top5.error").gauge().value()).isEqualTo(0.18);
    assertThat(registry.get("trainer.compute").timer().count()).isEqualTo(2);
    List<String> names = registry.getMeters().stream().map(m -> m.getId().getName()).toList();
    assertThat(names).noneMatch(n -> n.contains("per.second") || n.contains("top1") && !n.contains("error"));
    assertThat(registry.getMeters()).filteredOn(m -> m.getId().getType() == Meter.Type.GAUGE)
        .allMatch(m -> m.getId().getDescription() != null, "every gauge says what it is");
  }
}
