package org.alexkafka.trainer.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the trainer's metrics file ({@code metrics.jsonl}, see {@code TrainingMetrics}) back into
 * the series the report plots. A torn last line (the trainer killed mid-write) is skipped.
 */
public final class MetricsHistory {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** The series of one run. */
  public record Series(List<TrainPoint> training, List<EvalPoint> evaluations, List<RateChange> rateChanges,
                       RunEndPoint end) {}

  private MetricsHistory() {}

  public static Series read(Path metricsFile) throws IOException {
    List<TrainPoint> training = new ArrayList<>();
    List<EvalPoint> evaluations = new ArrayList<>();
    List<RateChange> changes = new ArrayList<>();
    RunEndPoint end = null;
    if (!Files.exists(metricsFile)) {
      return new Series(training, evaluations, changes, null);
    }
    for (String line : Files.readAllLines(metricsFile)) {
      JsonNode row;
      try {
        row = JSON.readTree(line);
      } catch (IOException torn) {
        continue;
      }
      if (row == null) {
        continue;
      }
      String kind = row.path("kind").asText();
      if (kind.equals("train") || kind.equals("eval")) {
        end = null; // a resumed run went on after an end row
      }
      switch (kind) {
        case "train" -> {
          double data = row.path("dataSeconds").asDouble(0);
          double compute = row.path("computeSeconds").asDouble(0);
          training.add(new TrainPoint(row.path("iteration").asLong(), row.path("epoch").asInt(), number(row, "loss"),
              1 - number(row, "top1"), 1 - number(row, "top5"), number(row, "learningRate"),
              number(row, "imagesPerSecond"), data + compute > 0 ? data / (data + compute) : Double.NaN));
        }
        case "eval" -> evaluations.add(new EvalPoint(row.path("iteration").asLong(), row.path("epoch").asInt(),
            number(row, "top1Error"), number(row, "top5Error"), number(row, "tenViewTop1Error"), number(row, "tenViewTop5Error")));
        case "lr" -> changes.add(new RateChange(row.path("iteration").asLong(), row.path("epoch").asInt(),
            number(row, "from"), number(row, "to"), row.path("reason").asText("")));
        case "end" -> end = new RunEndPoint(row.path("iteration").asLong(), row.path("epoch").asInt(),
            row.path("reason").asText(""), row.path("description").asText(""));
        default -> { }
      }
    }
    return new Series(training, evaluations, changes, end);
  }

  private static double number(JsonNode row, String field) {
    JsonNode n = row.get(field);
    return n == null || !n.isNumber() ? Double.NaN : n.asDouble();
  }
}
