package org.alexkafka.bench.learn;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One side's learning curve: its validation evaluations, each with the samples trained and the
 * wall time since training started. Both sides write it as JSON lines with the same fields
 * ({@code epoch, iteration, samples, seconds, top1, top5, top1_10v, top5_10v, lr, epoch_end}); the
 * Java side converts the trainer's {@code metrics.jsonl} ({@link #fromMetrics}).
 */
public record LearnCurve(List<Point> points) {

  private static final ObjectMapper JSON = com.fasterxml.jackson.databind.json.JsonMapper.builder()
      .enable(com.fasterxml.jackson.core.json.JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

  /**
   * One evaluation.
   *
   * @param epoch the epoch it belongs to (the finished one for an epoch-end evaluation)
   * @param epochEnd true when it closes an epoch (false: the run's last, mid-epoch evaluation)
   * @param seconds wall time from the start of training to the end of this evaluation
   * @param lr the learning rate the samples before it were trained with
   */
  public record Point(int epoch, long iteration, long samples, double seconds, double top1, double top5,
                      double top1TenView, double top5TenView, double lr, boolean epochEnd) {
  }

  public LearnCurve {
    points = List.copyOf(points);
  }

  /**
   * From the trainer's metrics rows: {@code eval} rows become points; time is measured from
   * {@code start}; samples and epoch ends follow from the iteration, {@code batch} and the
   * {@code trainSamples} of one epoch (an epoch is ceil(trainSamples / batch) steps, the last one partial).
   */
  public static LearnCurve fromMetrics(List<String> metricsLines, Instant start, int batch, long trainSamples) throws IOException {
    long stepsPerEpoch = (trainSamples + batch - 1) / batch;
    List<Point> out = new ArrayList<>();
    double lr = Double.NaN;
    for (String line : metricsLines) {
      if (line.isBlank()) {
        continue;
      }
      JsonNode row = JSON.readTree(line);
      String kind = row.path("kind").asText();
      if (kind.equals("train")) {
        lr = num(row, "learning_rate", "learningRate");
      } else if (kind.equals("eval")) {
        long iteration = row.path("iteration").asLong();
        int epoch = row.path("epoch").asInt();
        long full = iteration / stepsPerEpoch;
        long samples = full * trainSamples + (iteration % stepsPerEpoch) * batch;
        boolean epochEnd = iteration > 0 && iteration % stepsPerEpoch == 0 && full == epoch;
        double seconds = Duration.between(start, Instant.parse(row.path("time").asText())).toMillis() / 1000.0;
        out.add(new Point(epoch, iteration, samples, seconds, num(row, "top1_error", "top1Error"),
            num(row, "top5_error", "top5Error"), num(row, "ten_view_top1_error", "tenViewTop1Error"),
            num(row, "ten_view_top5_error", "tenViewTop5Error"), lr, epochEnd));
      }
    }
    return new LearnCurve(out);
  }

  /** The field, or the camelCase name metrics files of older trainers gave it. */
  private static double num(JsonNode row, String field, String oldField) {
    return row.has(field) ? num(row, field) : num(row, oldField);
  }

  private static double num(JsonNode row, String field) {
    JsonNode n = row.get(field);
    return n == null || n.isNull() || !n.isNumber() ? Double.NaN : n.asDouble();
  }

  public void write(Path file) throws IOException {
    List<String> lines = new ArrayList<>();
    for (Point p : points) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("epoch", p.epoch());
      m.put("iteration", p.iteration());
      m.put("samples", p.samples());
      m.put("seconds", orNull(p.seconds()));
      m.put("top1", orNull(p.top1()));
      m.put("top5", orNull(p.top5()));
      m.put("top1_10v", orNull(p.top1TenView()));
      m.put("top5_10v", orNull(p.top5TenView()));
      m.put("lr", orNull(p.lr()));
      m.put("epoch_end", p.epochEnd());
      lines.add(JSON.writeValueAsString(m));
    }
    Files.write(file, lines, StandardCharsets.UTF_8);
  }

  private static Double orNull(double v) {
    return Double.isNaN(v) ? null : v;
  }

  public static LearnCurve read(Path file) throws IOException {
    List<Point> out = new ArrayList<>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      if (line.isBlank()) {
        continue;
      }
      JsonNode r = JSON.readTree(line);
      out.add(new Point(r.path("epoch").asInt(), r.path("iteration").asLong(), r.path("samples").asLong(),
          num(r, "seconds"), num(r, "top1"), num(r, "top5"), num(r, "top1_10v"), num(r, "top5_10v"), num(r, "lr"),
          r.path("epoch_end").asBoolean()));
    }
    return new LearnCurve(out);
  }

  /** The evaluation that closed {@code epoch}, if there is one. */
  public Optional<Point> atEpoch(int epoch) {
    return points.stream().filter(p -> p.epochEnd() && p.epoch() == epoch).reduce((a, b) -> b);
  }

  /** The last epoch this curve closed (0: none). */
  public int epochsDone() {
    return points.stream().filter(Point::epochEnd).mapToInt(Point::epoch).max().orElse(0);
  }

  /** What this side knew at wall time {@code seconds}: its last evaluation finished by then. */
  public Optional<Point> lastBy(double seconds) {
    return points.stream().filter(p -> p.seconds() <= seconds).reduce((a, b) -> b);
  }

  /** The run's final evaluation. */
  public Optional<Point> last() {
    return points.isEmpty() ? Optional.empty() : Optional.of(points.get(points.size() - 1));
  }

  /** Training samples per second of wall time, evaluations included, up to the last evaluation. */
  public double samplesPerSecond() {
    return last().map(p -> p.seconds() > 0 ? p.samples() / p.seconds() : Double.NaN).orElse(Double.NaN);
  }
}
