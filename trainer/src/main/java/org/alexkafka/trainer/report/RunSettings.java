package org.alexkafka.trainer.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;

/**
 * The report's settings table: how the run went (start, end, duration, why it ended), what it ran
 * on (engine, device, seed, commit), the data set's size, and every trainer option, flattened
 * ("lr.patience"). Built from the metrics file's rows, so it shows what was actually run.
 */
public record RunSettings(List<Setting> run, List<Setting> data, List<Setting> options) {

  public record Setting(String name, String value) {}

  public static RunSettings none() {
    return new RunSettings(List.of(), List.of(), List.of());
  }

  /**
   * @param fallbackConfig the options to show when the file has no start row (older trainers), e.g.
   *     a checkpoint's configuration; null for none
   * @param now the time a run that has not ended is measured to
   */
  public static RunSettings of(MetricsHistory.Series s, JsonNode fallbackConfig, Instant now) {
    RunStart first = s.starts().isEmpty() ? null : s.starts().get(0);
    RunStart latest = s.starts().isEmpty() ? null : s.starts().get(s.starts().size() - 1);
    List<Setting> run = new ArrayList<>();
    RunEndPoint end = s.end();
    run.add(new Setting("status", end == null ? "running (no end record yet)"
        : "ended: " + end.description() + " (" + end.reason() + ")"));
    Instant started = first != null && first.time() != null ? first.time() : s.firstTime();
    Instant ended = end != null ? (end.time() != null ? end.time() : s.lastTime()) : null;
    run.add(new Setting("started", started == null ? "unknown" : started.toString()));
    run.add(new Setting("ended", ended == null ? "—" : ended.toString()));
    if (started != null) {
      Instant until = ended != null ? ended : now;
      run.add(new Setting("duration", Elapsed.format(Duration.between(started, until).toMillis() / 1000.0)
          + (ended == null ? " so far" : "")));
    }
    if (s.starts().size() > 1) {
      run.add(new Setting("restarts", (s.starts().size() - 1) + " (resumed from checkpoints)"));
    }
    if (end != null) {
      run.add(new Setting("last iteration", end.iteration() + " (epoch " + end.epoch() + ")"));
    }
    if (latest != null) {
      run.add(new Setting("engine", latest.engine()));
      run.add(new Setting("device", latest.device()));
      if (latest.parameters() >= 0) {
        run.add(new Setting("parameters", String.format(java.util.Locale.ROOT, "%,d", latest.parameters())));
      }
      run.add(new Setting("seed", Long.toString(latest.seed())));
      run.add(new Setting("git commit", latest.gitCommit()));
      if (!latest.java().isEmpty()) {
        run.add(new Setting("java", latest.java()));
      }
    } else {
      run.add(new Setting("git commit", GitCommit.UNKNOWN));
    }

    List<Setting> data = new ArrayList<>();
    JsonNode config = latest != null ? latest.config() : fallbackConfig;
    if (config != null && config.has("classes")) {
      data.add(new Setting("classes", config.get("classes").asText()));
    }
    if (latest != null && latest.trainImages() >= 0) {
      data.add(new Setting("training images", Long.toString(latest.trainImages())));
    }
    s.epochs().stream().filter(e -> e.trainOffsets() >= 0).reduce((a, b) -> b)
        .ifPresent(e -> data.add(new Setting("samples.train offsets per epoch",
            e.trainOffsets() + " (epoch " + e.epoch() + "; samples and transaction markers)")));
    s.evaluations().stream().filter(e -> e.images() >= 0).reduce((a, b) -> b)
        .ifPresent(e -> data.add(new Setting("validation images", Long.toString(e.images()))));

    List<Setting> options = new ArrayList<>();
    if (config != null) {
      flatten("", config, options);
    }
    return new RunSettings(run, data, options);
  }

  private static void flatten(String prefix, JsonNode node, List<Setting> out) {
    if (node.isObject()) {
      Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> f = fields.next();
        String name = prefix.isEmpty() ? f.getKey() : prefix + "." + f.getKey();
        if (f.getValue().isObject() && f.getValue().size() > 0) {
          flatten(name, f.getValue(), out);
        } else {
          out.add(new Setting(name, text(f.getValue())));
        }
      }
    }
  }

  private static String text(JsonNode v) {
    if (v.isArray()) {
      return StreamSupport.stream(v.spliterator(), false).map(RunSettings::text).collect(Collectors.joining(", ", "[", "]"));
    }
    return v.isNull() ? "—" : v.asText();
  }
}
