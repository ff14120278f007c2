package org.alexkafka.trainer.report;

import java.text.FieldPosition;
import java.text.NumberFormat;
import java.text.ParsePosition;

/**
 * Labels an iteration axis with the wall time at which training reached that iteration, by
 * linear interpolation between the logged (iteration, elapsed) points: the second x axis of the
 * curves. Outside the logged iterations the label is empty rather than a guess.
 */
final class ElapsedTimeFormat extends NumberFormat {

  private final double[] iterations;
  private final double[] seconds;

  /** Both ascending in iteration, of the same length, at least one point. */
  ElapsedTimeFormat(double[] iterations, double[] seconds) {
    this.iterations = iterations.clone();
    this.seconds = seconds.clone();
  }

  /** Elapsed seconds at {@code iteration}; NaN outside the logged range. */
  double secondsAt(double iteration) {
    int n = iterations.length;
    if (iteration < iterations[0] || iteration > iterations[n - 1]) {
      return Double.NaN;
    }
    for (int i = 1; i < n; i++) {
      if (iteration <= iterations[i]) {
        double span = iterations[i] - iterations[i - 1];
        double f = span == 0 ? 1 : (iteration - iterations[i - 1]) / span;
        return seconds[i - 1] + f * (seconds[i] - seconds[i - 1]);
      }
    }
    return seconds[n - 1];
  }

  @Override
  public StringBuffer format(double number, StringBuffer to, FieldPosition pos) {
    double s = secondsAt(number);
    return Double.isNaN(s) ? to : to.append(Elapsed.format(s));
  }

  @Override
  public StringBuffer format(long number, StringBuffer to, FieldPosition pos) {
    return format((double) number, to, pos);
  }

  @Override
  public Number parse(String source, ParsePosition pos) {
    return null; // labels only: never parsed back
  }
}
