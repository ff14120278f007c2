package org.alexkafka.trainer.data;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** How well an order is shuffled, measured against what a uniform random permutation gives. */
final class OrderStatistics {

  private OrderStatistics() {}

  /**
   * Mean distance in positions between two variants of the same image, divided by (N + 1) / 3,
   * the mean distance between two distinct positions of a uniform permutation of N: about 1 when
   * an image's variants are spread over the whole epoch, near 0 when they come together.
   */
  static <T> double variantSpread(List<T> order, Function<T, String> image) {
    Map<String, List<Integer>> positions = new HashMap<>();
    for (int i = 0; i < order.size(); i++) {
      positions.computeIfAbsent(image.apply(order.get(i)), k -> new ArrayList<>()).add(i);
    }
    double sum = 0;
    long pairs = 0;
    for (List<Integer> p : positions.values()) {
      for (int a = 0; a < p.size(); a++) {
        for (int b = a + 1; b < p.size(); b++) {
          sum += Math.abs(p.get(a) - p.get(b));
          pairs++;
        }
      }
    }
    return (sum / pairs) / ((order.size() + 1) / 3.0);
  }

  /** Spearman's rank correlation of the positions of the same items in two orders (0 for independent permutations). */
  static <T> double rankCorrelation(List<T> first, List<T> second) {
    Map<T, Integer> at = new HashMap<>();
    for (int i = 0; i < second.size(); i++) {
      at.put(second.get(i), i);
    }
    double n = first.size();
    double d2 = 0;
    for (int i = 0; i < first.size(); i++) {
      double d = i - at.get(first.get(i));
      d2 += d * d;
    }
    return 1 - 6 * d2 / (n * (n * n - 1));
  }

  /**
   * How far the classes sit from the middle of the epoch: the largest |mean position / (N - 1) -
   * 0.5| over the classes. About 0.01 for a uniform permutation of hundreds of samples a class;
   * large when the order follows a topic written class by class.
   */
  static <T> double classPositionBias(List<T> order, Function<T, Integer> classOf) {
    Map<Integer, double[]> sums = new HashMap<>();
    for (int i = 0; i < order.size(); i++) {
      double[] s = sums.computeIfAbsent(classOf.apply(order.get(i)), k -> new double[2]);
      s[0] += i;
      s[1]++;
    }
    return sums.values().stream().mapToDouble(s -> Math.abs(s[0] / s[1] / (order.size() - 1) - 0.5)).max().orElseThrow();
  }

  /**
   * How far the class mix of consecutive windows of {@code window} samples is from the epoch's:
   * the mean total-variation distance between the two class distributions.
   */
  static <T> double classImbalance(List<T> order, Function<T, Integer> classOf, int window) {
    Map<Integer, Double> overall = new HashMap<>();
    order.forEach(t -> overall.merge(classOf.apply(t), 1.0 / order.size(), Double::sum));
    double sum = 0;
    int windows = 0;
    for (int i = 0; i + window <= order.size(); i += window) {
      Map<Integer, Double> here = new HashMap<>();
      order.subList(i, i + window).forEach(t -> here.merge(classOf.apply(t), 1.0 / window, Double::sum));
      double tv = 0;
      for (var e : overall.entrySet()) {
        tv += Math.abs(here.getOrDefault(e.getKey(), 0.0) - e.getValue());
      }
      sum += tv / 2;
      windows++;
    }
    return sum / windows;
  }

  /** Mean number of distinct classes in consecutive batches of {@code batch}. */
  static <T> double classesPerBatch(List<T> order, Function<T, Integer> classOf, int batch) {
    double sum = 0;
    int batches = 0;
    for (int i = 0; i + batch <= order.size(); i += batch) {
      sum += order.subList(i, i + batch).stream().map(classOf).distinct().count();
      batches++;
    }
    return sum / batches;
  }

  /** Distinct classes expected in a batch of a uniform permutation with equally many samples per class. */
  static double uniformClassesPerBatch(int classes, int batch) {
    return classes * (1 - Math.pow(1 - 1.0 / classes, batch));
  }
}
