package org.alexkafka.trainer.report;

/**
 * The exponential moving average TensorBoard draws over noisy curves, debiased at the start (so
 * that the first points are not pulled towards 0): {@code s ← w·s + (1−w)·y}, shown as {@code
 * s / (1 − w^k)} after k points. NaN values are skipped and keep the average as it is.
 */
final class Smoothing {

  private Smoothing() {}

  /**
   * A weight with about {@code n / 10} points of memory, between TensorBoard's default of 0.6 (for
   * a few dozen points) and 0.99 (for thousands), as a static page has no slider.
   */
  static double weightFor(int n) {
    return Math.max(0.6, Math.min(0.99, 1 - 10.0 / Math.max(1, n)));
  }

  static double[] ema(double[] y, double weight) {
    double[] out = new double[y.length];
    double last = 0;
    int seen = 0;
    for (int i = 0; i < y.length; i++) {
      if (!Double.isNaN(y[i])) {
        last = weight * last + (1 - weight) * y[i];
        seen++;
      }
      out[i] = seen == 0 ? Double.NaN : weight == 0 ? last : last / (1 - Math.pow(weight, seen));
    }
    return out;
  }
}
