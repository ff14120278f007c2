package org.alexkafka.trainer.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Counter;
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
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.alexkafka.trainer.eval.EvalResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Training metrics: a log line per interval, Micrometer meters, and the metrics file
 * {@code <runDir>/metrics.jsonl}: one JSON object per line, four kinds.
 *
 * <pre>
 * {"kind":"train","time":"2026-..Z","epoch":1,"iteration":40,"samples":5120,"loss":6.71,
 *  "top1":0.02,"top5":0.07,"imagesPerSecond":12.3,"dataSeconds":0.8,"computeSeconds":9.7,"learningRate":0.01}
 * {"kind":"eval","time":"..","epoch":1,"iteration":40,"images":500,"top1Error":0.9,"top5Error":0.5,
 *  "tenViewImages":500,"tenViewTop1Error":0.88,"tenViewTop5Error":0.49}
 * {"kind":"lr","time":"..","epoch":9,"iteration":900,"from":0.01,"to":0.001,"reduction":1,"reason":"validation error .."}
 * {"kind":"end","time":"..","epoch":31,"iteration":3100,"samples":396800,"reason":"PLATEAU","description":"..",
 *  "learningRate":1.0E-5}
 * </pre>
 *
 * train rows: loss = mean cross-entropy of the interval's training batches (without the weight
 * decay term); top1/top5 = accuracy on the interval's last batch (inference mode, after its step);
 * imagesPerSecond over the interval's wall time; dataSeconds = time spent waiting for / building
 * batches, computeSeconds = time in the training step, both summed over the interval.
 */
public final class TrainingMetrics implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(TrainingMetrics.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path file;
  private final Counter samples;
  private final Counter iterations;
  private final Counter rejected;
  private final Timer dataTimer;
  private final Timer computeTimer;
  private final AtomicReference<Double> loss = new AtomicReference<>(Double.NaN);
  private final AtomicReference<Double> top1 = new AtomicReference<>(Double.NaN);
  private final AtomicReference<Double> top5 = new AtomicReference<>(Double.NaN);
  private final AtomicReference<Double> lr = new AtomicReference<>(Double.NaN);
  private final AtomicReference<Double> rate = new AtomicReference<>(0.0);
  private final AtomicReference<Double> epoch = new AtomicReference<>(0.0);
  private final AtomicReference<Double> valTop1 = new AtomicReference<>(Double.NaN);
  private final AtomicReference<Double> valTop5 = new AtomicReference<>(Double.NaN);

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
    samples = Counter.builder("trainer.samples").description("training samples trained on").register(registry);
    iterations = Counter.builder("trainer.iterations").description("training steps").register(registry);
    rejected = Counter.builder("trainer.samples.rejected").description("samples skipped as unusable").register(registry);
    dataTimer = Timer.builder("trainer.data.wait").description("time waiting for/building batches").register(registry);
    computeTimer = Timer.builder("trainer.compute").description("time in training steps").register(registry);
    registry.gauge("trainer.loss", loss, AtomicReference::get);
    registry.gauge("trainer.train.top1", top1, AtomicReference::get);
    registry.gauge("trainer.train.top5", top5, AtomicReference::get);
    registry.gauge("trainer.learning.rate", lr, AtomicReference::get);
    registry.gauge("trainer.images.per.second", rate, AtomicReference::get);
    registry.gauge("trainer.epoch", epoch, AtomicReference::get);
    registry.gauge("trainer.val.top1.error", valTop1, AtomicReference::get);
    registry.gauge("trainer.val.top5.error", valTop5, AtomicReference::get);
  }

  public Path file() {
    return file;
  }

  public void rejected(long n) {
    if (n > 0) {
      rejected.increment(n);
    }
  }

  /** One training step. */
  public void step(int batch, double stepLoss, long dataNanos, long computeNanos) {
    samples.increment(batch);
    iterations.increment();
    dataTimer.record(dataNanos, TimeUnit.NANOSECONDS);
    computeTimer.record(computeNanos, TimeUnit.NANOSECONDS);
    intervalSamples += batch;
    intervalLoss += stepLoss;
    intervalSteps++;
    intervalData += dataNanos / 1e9;
    intervalCompute += computeNanos / 1e9;
  }

  /** Closes an interval: logs, updates gauges, appends a train row. Returns the row. */
  public Map<String, Object> interval(int ep, long iteration, long totalSamples, double trainTop1, double trainTop5,
                                      double learningRate) {
    double seconds = (System.nanoTime() - intervalStart) / 1e9;
    double meanLoss = intervalSteps == 0 ? Double.NaN : intervalLoss / intervalSteps;
    double imagesPerSecond = seconds > 0 ? intervalSamples / seconds : 0;
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("kind", "train");
    row.put("time", Instant.now().toString());
    row.put("epoch", ep);
    row.put("iteration", iteration);
    row.put("samples", totalSamples);
    row.put("loss", meanLoss);
    row.put("top1", trainTop1);
    row.put("top5", trainTop5);
    row.put("imagesPerSecond", imagesPerSecond);
    row.put("dataSeconds", intervalData);
    row.put("computeSeconds", intervalCompute);
    row.put("learningRate", learningRate);
    append(row);
    loss.set(meanLoss);
    top1.set(trainTop1);
    top5.set(trainTop5);
    lr.set(learningRate);
    rate.set(imagesPerSecond);
    epoch.set((double) ep);
    log.info(String.format("epoch %d iter %d | loss %.4f | top1 %.3f top5 %.3f | %.1f img/s | data %.1fs compute %.1fs | lr %.2g",
        ep, iteration, meanLoss, trainTop1, trainTop5, imagesPerSecond, intervalData, intervalCompute, learningRate));
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
    row.put("top1Error", r.centreTop1Error());
    row.put("top5Error", r.centreTop5Error());
    row.put("tenViewImages", r.tenViewImages());
    row.put("tenViewTop1Error", r.tenViewTop1Error());
    row.put("tenViewTop5Error", r.tenViewTop5Error());
    append(row);
    valTop1.set(r.centreTop1Error());
    valTop5.set(r.centreTop5Error());
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
    row.put("learningRate", learningRate);
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
