package org.alexkafka.trainer.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.alexkafka.trainer.eval.EvalResult;
import org.alexkafka.trainer.report.GitCommit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Training metrics: a log line per interval, Micrometer meters, and the metrics file
 * {@code <runDir>/metrics.jsonl}: one JSON object per line, six kinds, keys in snake_case and
 * named by what they are (errors are errors, never accuracies).
 *
 * <pre>
 * {"kind":"start","time":"2026-..Z","epoch":1,"iteration":0,"engine":"dl4j","device":"cpu","parameters":60965224,
 *  "seed":42,"git_commit":"3f2c..","train_images":9469,"java":"17.0.12","config":{..every trainer option..}}
 * {"kind":"epoch","time":"..","epoch":1,"iteration":0,"train_offsets":75752}
 * {"kind":"train","time":"..","epoch":1,"iteration":40,"samples":5120,"loss":6.71,"top1_error":0.98,"top5_error":0.93,
 *  "images_per_second":12.3,"data_seconds":0.8,"compute_seconds":9.7,"learning_rate":0.01}
 * {"kind":"eval","time":"..","epoch":1,"iteration":40,"images":500,"top1_error":0.9,"top5_error":0.5,
 *  "ten_view_images":500,"ten_view_top1_error":0.88,"ten_view_top5_error":0.49}
 * {"kind":"lr","time":"..","epoch":9,"iteration":900,"from":0.01,"to":0.001,"reduction":1,"reason":"validation error .."}
 * {"kind":"end","time":"..","epoch":31,"iteration":3100,"samples":396800,"reason":"PLATEAU","description":"..",
 *  "learning_rate":1.0E-5}
 * </pre>
 *
 * start rows: one per (re)start of the trainer, with the configuration it runs; epoch rows: the
 * offsets of samples.train the epoch's pass spans. train rows: loss = mean cross-entropy of the
 * interval's training batches (without the weight decay term); top1_error/top5_error = on the
 * interval's last batch (inference mode, after its step); images_per_second over the interval's
 * wall time; data_seconds = time spent waiting for / building batches, compute_seconds = time in
 * the training step, both summed over the interval. Files written before these names used
 * {@code top1}/{@code top5} (accuracies) and camelCase keys; {@code MetricsHistory} reads both.
 *
 * <p>Prometheus (Micrometer's names, as the Prometheus registry exposes them): counters
 * {@code trainer_images_trained_total}, {@code trainer_iterations_total}, {@code
 * trainer_samples_rejected_total}; timers {@code trainer_data_wait_seconds} and {@code
 * trainer_compute_seconds} ({@code _count}, {@code _sum}, {@code _max}); gauges {@code
 * trainer_loss}, {@code trainer_train_top1_error}, {@code trainer_train_top5_error}, {@code
 * trainer_learning_rate}, {@code trainer_epoch}, {@code trainer_val_top1_error}, {@code
 * trainer_val_top5_error}, {@code trainer_val_ten_view_top1_error}, {@code
 * trainer_val_ten_view_top5_error}. No unit in the names of these gauges: losses and errors have
 * none. Rates are left to the query, as Prometheus wants, rather than served as gauges:
 * images/s = {@code rate(trainer_images_trained_total[1m])}; steps/s = {@code
 * rate(trainer_iterations_total[1m])}; mean step time = {@code rate(trainer_compute_seconds_sum[1m])
 * / rate(trainer_compute_seconds_count[1m])}; share of time waiting for data = {@code
 * rate(trainer_data_wait_seconds_sum[1m]) / (rate(trainer_data_wait_seconds_sum[1m]) +
 * rate(trainer_compute_seconds_sum[1m]))}.
 */
public final class TrainingMetrics implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(TrainingMetrics.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path file;
  private final Counter imagesTrained;
  private final Counter iterations;
  private final Counter rejected;
  private final Timer dataTimer;
  private final Timer computeTimer;
  private final AtomicReference<Double> loss = new AtomicReference<>(Double.NaN);
  private final AtomicReference<Double> top1Error = new AtomicReference<>(Double.NaN);
  private final AtomicReference<Double> top5Error = new AtomicReference<>(Double.NaN);
  private final AtomicReference<Double> lr = new AtomicReference<>(Double.NaN);
  private final AtomicReference<Double> epoch = new AtomicReference<>(0.0);
  private final AtomicReference<Double> valTop1Error = new AtomicReference<>(Double.NaN);
  private final AtomicReference<Double> valTop5Error = new AtomicReference<>(Double.NaN);
  private final AtomicReference<Double> valTenViewTop1Error = new AtomicReference<>(Double.NaN);
  private final AtomicReference<Double> valTenViewTop5Error = new AtomicReference<>(Double.NaN);

  private long intervalStart = System.nanoTime();
  private long intervalSamples;
  private double intervalLoss;
  private int intervalSteps;
  private double intervalData;
  private double intervalCompute;

  public TrainingMetrics(Path runDir, MeterRegistry registry) {
    try {
      Files.createDirectories(runDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create run directory " + runDir, e);
    }
    this.file = runDir.resolve("metrics.jsonl");
    imagesTrained = Counter.builder("trainer.images.trained")
        .description("training samples (image crops) trained on; rate() of it is images/s").register(registry);
    iterations = Counter.builder("trainer.iterations").description("training steps").register(registry);
    rejected = Counter.builder("trainer.samples.rejected").description("samples skipped as unusable").register(registry);
    dataTimer = Timer.builder("trainer.data.wait").description("time waiting for/building batches").register(registry);
    computeTimer = Timer.builder("trainer.compute").description("time in training steps").register(registry);
    gauge(registry, "trainer.loss", "mean cross-entropy of the last interval's training batches", loss);
    gauge(registry, "trainer.train.top1.error", "top-1 error on the last interval's last training batch", top1Error);
    gauge(registry, "trainer.train.top5.error", "top-5 error on the last interval's last training batch", top5Error);
    gauge(registry, "trainer.learning.rate", "the learning rate ε", lr);
    gauge(registry, "trainer.epoch", "the epoch being trained", epoch);
    gauge(registry, "trainer.val.top1.error", "top-1 error of the last evaluation, centre crops", valTop1Error);
    gauge(registry, "trainer.val.top5.error", "top-5 error of the last evaluation, centre crops", valTop5Error);
    gauge(registry, "trainer.val.ten.view.top1.error", "top-1 error of the last evaluation, 10-view average",
        valTenViewTop1Error);
    gauge(registry, "trainer.val.ten.view.top5.error", "top-5 error of the last evaluation, 10-view average",
        valTenViewTop5Error);
  }

  private static void gauge(MeterRegistry registry, String name, String description, AtomicReference<Double> value) {
    Gauge.builder(name, value, AtomicReference::get).description(description).register(registry);
  }

  public Path file() {
    return file;
  }

  public void rejected(long n) {
    if (n > 0) {
      rejected.increment(n);
    }
  }

  /**
   * The (re)start of training: what it runs with, for the report's settings table.
   *
   * @param config every trainer option (written as Jackson writes it)
   * @param trainImages the images the mean image was computed from (the training set as augment saw it)
   */
  public void start(int ep, long iteration, Object config, String engine, String device, long parameters, long seed,
                    long trainImages) {
    Map<String, Object> row = row("start", ep, iteration);
    row.put("engine", engine);
    row.put("device", device);
    row.put("parameters", parameters);
    row.put("seed", seed);
    row.put("git_commit", GitCommit.find(Path.of("")));
    row.put("train_images", trainImages);
    row.put("java", Runtime.version().toString());
    row.put("config", options(config));
    append(row);
  }

  /** The options as JSON; a configuration Jackson cannot write costs the settings table, never the run. */
  private static Object options(Object config) {
    try {
      return JSON.valueToTree(config);
    } catch (IllegalArgumentException e) {
      log.warn("the trainer's options are not in the metrics file: {}", e.toString());
      return Map.of();
    }
  }

  /**
   * An epoch starts: its pass spans {@code trainOffsets} offsets of samples.train (its samples, and
   * the transaction markers between them).
   */
  public void epochStarted(int ep, long iteration, long trainOffsets) {
    Map<String, Object> row = row("epoch", ep, iteration);
    row.put("train_offsets", trainOffsets);
    append(row);
  }

  /** One training step. */
  public void step(int batch, double stepLoss, long dataNanos, long computeNanos) {
    imagesTrained.increment(batch);
    iterations.increment();
    dataTimer.record(dataNanos, TimeUnit.NANOSECONDS);
    computeTimer.record(computeNanos, TimeUnit.NANOSECONDS);
    intervalSamples += batch;
    intervalLoss += stepLoss;
    intervalSteps++;
    intervalData += dataNanos / 1e9;
    intervalCompute += computeNanos / 1e9;
  }

  /**
   * Closes an interval: logs, updates gauges, appends a train row. Takes the accuracies that
   * {@code TopK} gives and records them as errors. Returns the row.
   */
  public Map<String, Object> interval(int ep, long iteration, long totalSamples, double trainTop1Accuracy,
                                      double trainTop5Accuracy, double learningRate) {
    double seconds = (System.nanoTime() - intervalStart) / 1e9;
    double meanLoss = intervalSteps == 0 ? Double.NaN : intervalLoss / intervalSteps;
    double imagesPerSecond = seconds > 0 ? intervalSamples / seconds : 0;
    double top1 = 1 - trainTop1Accuracy;
    double top5 = 1 - trainTop5Accuracy;
    Map<String, Object> row = row("train", ep, iteration);
    row.put("samples", totalSamples);
    row.put("loss", meanLoss);
    row.put("top1_error", top1);
    row.put("top5_error", top5);
    row.put("images_per_second", imagesPerSecond);
    row.put("data_seconds", intervalData);
    row.put("compute_seconds", intervalCompute);
    row.put("learning_rate", learningRate);
    append(row);
    loss.set(meanLoss);
    top1Error.set(top1);
    top5Error.set(top5);
    lr.set(learningRate);
    epoch.set((double) ep);
    log.info(String.format(Locale.ROOT, "epoch %d iter %d | loss %.4f | top1_error %.3f top5_error %.3f | %.1f img/s "
            + "| data %.1fs compute %.1fs | lr %.2g",
        ep, iteration, meanLoss, top1, top5, imagesPerSecond, intervalData, intervalCompute, learningRate));
    intervalStart = System.nanoTime();
    intervalSamples = 0;
    intervalLoss = 0;
    intervalSteps = 0;
    intervalData = 0;
    intervalCompute = 0;
    return row;
  }

  public void eval(int ep, long iteration, EvalResult r) {
    Map<String, Object> row = row("eval", ep, iteration);
    row.put("images", r.images());
    row.put("top1_error", r.centreTop1Error());
    row.put("top5_error", r.centreTop5Error());
    row.put("ten_view_images", r.tenViewImages());
    row.put("ten_view_top1_error", r.tenViewTop1Error());
    row.put("ten_view_top5_error", r.tenViewTop5Error());
    append(row);
    valTop1Error.set(r.centreTop1Error());
    valTop5Error.set(r.centreTop5Error());
    valTenViewTop1Error.set(r.tenViewTop1Error());
    valTenViewTop5Error.set(r.tenViewTop5Error());
  }

  /** A division of the learning rate by the schedule, with why. */
  public void learningRateChange(int ep, long iteration, double from, double to, int reduction, String reason) {
    Map<String, Object> row = row("lr", ep, iteration);
    row.put("from", from);
    row.put("to", to);
    row.put("reduction", reduction);
    row.put("reason", reason);
    append(row);
  }

  /** The end of a run and its reason (a {@code RunEnd} name). */
  public void end(int ep, long iteration, long totalSamples, String reason, String description, double learningRate) {
    Map<String, Object> row = row("end", ep, iteration);
    row.put("samples", totalSamples);
    row.put("reason", reason);
    row.put("description", description);
    row.put("learning_rate", learningRate);
    append(row);
  }

  /** A metrics row with the fields every kind has. */
  private static Map<String, Object> row(String kind, int ep, long iteration) {
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("kind", kind);
    row.put("time", Instant.now().toString());
    row.put("epoch", ep);
    row.put("iteration", iteration);
    return row;
  }

  private void append(Map<String, Object> row) {
    try {
      String line = JSON.writeValueAsString(row) + "\n";
      Files.writeString(file, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      log.warn("could not append to {}: {}", file, e.toString());
    }
  }

  @Override
  public void close() {
  }
}
