package org.alexkafka.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.alexkafka.trainer.eval.EvalResult;
import org.alexkafka.trainer.train.TrainingMetrics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trainer's meters as a Prometheus server scrapes them: Prometheus' naming rules. */
class TrainerMetricNamesTest {

  /** The metric names of a text-format scrape (sample lines, without labels and values). */
  private static Set<String> names(String scrape) {
    Set<String> names = new TreeSet<>();
    for (String line : scrape.split("\n")) {
      if (!line.isBlank() && !line.startsWith("#")) {
        names.add(line.split("[{ ]", 2)[0]);
      }
    }
    return names;
  }

  @Test
  void baseUnitsTotalForCountersNoUnitTwiceAndNoRateGauges(@TempDir Path dir) {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    TrainingMetrics metrics = new TrainingMetrics(dir, registry);
    metrics.step(32, 2.0, 1_000_000, 9_000_000);
    metrics.interval(1, 1, 32, 0.25, 0.75, 0.01);
    metrics.eval(1, 1, new EvalResult(50, 0.6, 0.2, 50, 0.55, 0.18, 0));

    String scrape = registry.scrape();
    Set<String> names = names(scrape);

    assertThat(names).contains("trainer_images_trained_total", "trainer_iterations_total", "trainer_samples_rejected_total",
        "trainer_data_wait_seconds_count", "trainer_data_wait_seconds_sum", "trainer_compute_seconds_sum",
        "trainer_loss", "trainer_learning_rate", "trainer_epoch", "trainer_train_top1_error", "trainer_train_top5_error",
        "trainer_val_top1_error", "trainer_val_top5_error", "trainer_val_ten_view_top1_error",
        "trainer_val_ten_view_top5_error");
    assertThat(names).noneMatch(n -> n.contains("per_second"));
    for (String name : names) {
      List<String> words = Arrays.asList(name.split("_"));
      for (String unit : List.of("seconds", "bytes", "images", "total")) {
        assertThat(words.stream().filter(unit::equals).count()).as("%s says %s once", name, unit).isLessThanOrEqualTo(1);
      }
    }
    assertThat(scrape).contains("trainer_images_trained_total 32.0").contains("trainer_train_top1_error 0.75");
  }
}
