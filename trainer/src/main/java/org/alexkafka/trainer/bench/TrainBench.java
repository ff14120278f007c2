package org.alexkafka.trainer.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import org.alexkafka.trainer.model.AlexNet;
import org.alexkafka.trainer.model.AlexNetSpec;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench-train}: training images/s, CPU-seconds per step and peak memory of the full network
 * (the paper's AlexNet, 1000 classes) on random input, the same training step the trainer runs.
 */
@Command(name = "bench-train", mixinStandardHelpOptions = true,
    description = "Measure AlexNet training speed (images/s) and peak memory at batch 32 and 128.")
public class TrainBench implements Callable<Integer> {

  @Option(names = "--batches", defaultValue = "32,128", split = ",", description = "Batch sizes (default ${DEFAULT-VALUE}).")
  int[] batches;

  @Option(names = "--steps", defaultValue = "3", description = "Timed steps per batch size; the median counts.")
  int steps;

  @Option(names = "--warmup", defaultValue = "1", description = "Untimed steps first.")
  int warmup;

  @Option(names = "--towers", defaultValue = "1", description = "1, or 2 for the two-GPU grouping.")
  int towers;

  /** One batch size's figures. */
  public record Figures(int batch, double imagesPerSecond, double medianStepSeconds, double cpuSecondsPerStep,
                        long peakRssBytes) {
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new TrainBench()).execute(args));
  }

  @Override
  public Integer call() {
    AlexNetSpec spec = AlexNetSpec.paper().withTowers(towers);
    List<Figures> all = new ArrayList<>();
    for (int batch : batches) {
      Figures f = measure(spec, batch, warmup, steps);
      all.add(f);
      System.out.printf("batch %d: %.2f img/s, median step %.2f s, %.1f CPU-s/step, peak RSS %.2f GB%n", f.batch(),
          f.imagesPerSecond(), f.medianStepSeconds(), f.cpuSecondsPerStep(), f.peakRssBytes() / 1e9);
    }
    Figures first = all.get(0);
    System.out.printf("what=train_images_per_second_batch%d, value=%.2f, unit=img/s, peer=none, ratio=n/a, "
            + "steps=%d, peak_rss_gb=%.2f, backend=%s%n", first.batch(), first.imagesPerSecond(), steps,
        all.get(all.size() - 1).peakRssBytes() / 1e9, Nd4j.getBackend().getClass().getSimpleName());
    return 0;
  }

  /** Builds the network and times {@code steps} training steps of the given batch on random data. */
  public static Figures measure(AlexNetSpec spec, int batch, int warmup, int steps) {
    ComputationGraph net = AlexNet.build(spec);
    Nd4j.getRandom().setSeed(1);
    INDArray input = Nd4j.rand(DataType.FLOAT, batch, 3, spec.inputSize(), spec.inputSize()).subi(0.5).muli(100);
    INDArray labels = Nd4j.zeros(DataType.FLOAT, batch, spec.classes());
    for (int i = 0; i < batch; i++) {
      labels.putScalar(i, i % spec.classes(), 1);
    }
    DataSet data = new DataSet(input, labels);
    for (int i = 0; i < warmup; i++) {
      net.fit(data);
    }
    double[] seconds = new double[steps];
    double cpu = 0;
    for (int i = 0; i < steps; i++) {
      long cpu0 = processCpuNanos();
      long t0 = System.nanoTime();
      net.fit(data);
      seconds[i] = (System.nanoTime() - t0) / 1e9;
      cpu += (processCpuNanos() - cpu0) / 1e9;
    }
    double[] sorted = seconds.clone();
    Arrays.sort(sorted);
    double median = sorted[sorted.length / 2];
    return new Figures(batch, batch / median, median, cpu / steps, peakRss());
  }

  private static long processCpuNanos() {
    var os = ManagementFactory.getOperatingSystemMXBean();
    return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() : 0;
  }

  /** Peak resident set size of this process so far (VmHWM), in bytes; 0 where /proc is missing. */
  public static long peakRss() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | NumberFormatException e) {
      return 0;
    }
    return 0;
  }
}
