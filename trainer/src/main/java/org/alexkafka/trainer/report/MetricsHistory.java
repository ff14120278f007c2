package org.alexkafka.trainer.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the trainer's metrics file ({@code metrics.jsonl}, see {@code TrainingMetrics}) back into
 * the series the report plots. A torn last line (the trainer killed mid-write) is skipped. Files
 * of older trainers (camelCase keys, {@code top1}/{@code top5} as accuracies) read the same.
 */
public final class MetricsHistory {

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * The series of one run.
   *
   * @param starts one per (re)start of the trainer (empty for files of older trainers)
   * @param epochs where each epoch began (from epoch rows, or where the epoch number of train rows changes)
   * @param end null while the run goes on
   * @param firstTime the time of the file's first row; {@code lastTime} of its last (null: no row has one)
   */
  public record Series(List<TrainPoint> training, List<EvalPoint> evaluations, List<RateChange> rateChanges,
                       RunEndPoint end, List<RunStart> starts, List<EpochStart> epochs, Instant firstTime,
                       Instant lastTime) {

    public Series(List<TrainPoint> training, List<EvalPoint> evaluations, List<RateChange> rateChanges, RunEndPoint end) {
      this(training, evaluations, rateChanges, end, List.of(), List.of(), null, null);
    }
  }

  private MetricsHistory() {}

  public static Series read(Path metricsFile) throws IOException {
    List<JsonNode> rows = new ArrayList<>();
    if (Files.exists(metricsFile)) {
      for (String line : Files.readAllLines(metricsFile)) {
        try {
          JsonNode row = JSON.readTree(line);
          if (row != null && row.isObject()) {
            rows.add(row);
          }
        } catch (IOException torn) {
          // a torn line: skipped
        }
      }
    }
    return of(rows);
  }

  static Series of(List<JsonNode> rows) {
    List<TrainPoint> training = new ArrayList<>();
    List<EvalPoint> evaluations = new ArrayList<>();
    List<RateChange> changes = new ArrayList<>();
    List<RunStart> starts = new ArrayList<>();
    List<EpochStart> epochs = new ArrayList<>();
    boolean epochRows = rows.stream().anyMatch(r -> r.path("kind").asText().equals("epoch"));
    RunEndPoint end = null;
    Instant first = null;
    Instant last = null;
    for (JsonNode row : rows) {
      Instant time = time(row);
      if (time != null) {
        first = first == null ? time : first;
        last = time;
      }
      long iteration = row.path("iteration").asLong();
      int epoch = row.path("epoch").asInt();
      String kind = row.path("kind").asText();
      if (kind.equals("train") || kind.equals("eval") || kind.equals("start")) {
        end = null; // a resumed run went on after an end row
      }
      switch (kind) {
        case "start" -> starts.add(new RunStart(time, epoch, iteration, row.path("engine").asText(""),
            row.path("device").asText(""), row.path("parameters").asLong(-1), row.path("seed").asLong(),
            row.path("git_commit").asText(GitCommit.UNKNOWN), row.path("train_images").asLong(-1),
            row.path("java").asText(""), row.path("config").isObject() ? row.get("config") : JSON.createObjectNode()));
        case "epoch" -> epochs.add(new EpochStart(epoch, iteration, row.path("train_offsets").asLong(-1)));
        case "train" -> {
          if (!epochRows && (epochs.isEmpty() || epochs.get(epochs.size() - 1).epoch() != epoch)) {
            epochs.add(new EpochStart(epoch, iteration, -1)); // older files: where the epoch number changes
          }
          double data = number(row, "data_seconds", "dataSeconds");
          double compute = number(row, "compute_seconds", "computeSeconds");
          training.add(new TrainPoint(iteration, epoch, seconds(first, time), number(row, "loss", "loss"),
              error(row, "top1_error", "top1"), error(row, "top5_error", "top5"), number(row, "learning_rate", "learningRate"),
              number(row, "images_per_second", "imagesPerSecond"),
              data + compute > 0 ? data / (data + compute) : Double.NaN));
        }
        case "eval" -> evaluations.add(new EvalPoint(iteration, epoch, number(row, "top1_error", "top1Error"),
            number(row, "top5_error", "top5Error"), number(row, "ten_view_top1_error", "tenViewTop1Error"),
            number(row, "ten_view_top5_error", "tenViewTop5Error"), row.path("images").asLong(-1)));
        case "lr" -> changes.add(new RateChange(iteration, epoch, number(row, "from", "from"), number(row, "to", "to"),
            row.path("reason").asText("")));
        case "end" -> end = new RunEndPoint(iteration, epoch, row.path("reason").asText(""),
            row.path("description").asText(""), time);
        default -> { }
      }
    }
    return new Series(training, evaluations, changes, end, starts, epochs, first, last);
  }

  private static Instant time(JsonNode row) {
    try {
      return row.hasNonNull("time") ? Instant.parse(row.get("time").asText()) : null;
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  private static double seconds(Instant from, Instant to) {
    return from == null || to == null ? Double.NaN : Duration.between(from, to).toMillis() / 1000.0;
  }

  /** The field, or the one older files called it. */
  private static double number(JsonNode row, String field, String oldField) {
    JsonNode n = row.has(field) ? row.get(field) : row.get(oldField);
    return n == null || !n.isNumber() ? Double.NaN : n.asDouble();
  }

  /** An error, or 1 - the accuracy older files recorded under {@code oldAccuracy}. */
  private static double error(JsonNode row, String field, String oldAccuracy) {
    JsonNode n = row.get(field);
    if (n != null) {
      return n.isNumber() ? n.asDouble() : Double.NaN;
    }
    JsonNode accuracy = row.get(oldAccuracy);
    return accuracy == null || !accuracy.isNumber() ? Double.NaN : 1 - accuracy.asDouble();
  }
}
