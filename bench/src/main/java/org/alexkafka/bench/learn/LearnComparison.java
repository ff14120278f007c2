package org.alexkafka.bench.learn;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.ToDoubleFunction;

/**
 * The learning bench's comparison of the trainer (java) with its PyTorch peer (torch), seed by
 * seed: top-1 error at equal samples (each epoch both closed) and at equal wall time (what each
 * side had evaluated by a common time; and each side's final evaluation at the end of the shared
 * budget), and the ratios java / torch (below 1: the trainer's error is lower).
 */
public final class LearnComparison {

  /** Fractions of the shared budget at which the equal-time table looks. */
  static final double[] TIME_FRACTIONS = {0.25, 0.5, 0.75, 1.0};

  /** Both curves of one seed. */
  public record Pair(long seed, LearnCurve java, LearnCurve torch) {

    /** The last epoch both sides closed (0: none). */
    public int commonEpochs() {
      return Math.min(java.epochsDone(), torch.epochsDone());
    }

    /** The shared budget: the given one, or (none given) the shorter of the two runs. */
    public double budgetSeconds(double given) {
      if (given > 0) {
        return given;
      }
      return Math.min(java.last().map(LearnCurve.Point::seconds).orElse(0.0), torch.last().map(LearnCurve.Point::seconds).orElse(0.0));
    }
  }

  private final List<Pair> pairs;
  private final double budgetSeconds;

  /** @param budgetSeconds the time budget both sides trained for (0: none, epochs only) */
  public LearnComparison(List<Pair> pairs, double budgetSeconds) {
    this.pairs = List.copyOf(pairs);
    this.budgetSeconds = budgetSeconds;
  }

  public List<Pair> pairs() {
    return pairs;
  }

  /** Per epoch, both sides, one seed: the equal-samples table. */
  public String epochTable(Pair p) {
    StringBuilder s = new StringBuilder();
    s.append("| epoch | samples | java s | java top-1 | java 10-view | java lr | torch s | torch top-1 | torch 10-view | torch lr | ratio top-1 | ratio 10-view |\n");
    s.append("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    int epochs = Math.max(p.java().epochsDone(), p.torch().epochsDone());
    for (int e = 1; e <= epochs; e++) {
      Optional<LearnCurve.Point> j = p.java().atEpoch(e);
      Optional<LearnCurve.Point> t = p.torch().atEpoch(e);
      long samples = j.or(() -> t).map(LearnCurve.Point::samples).orElse(0L);
      s.append(String.format(Locale.ROOT, "| %d | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |%n", e, samples,
          f1(j, LearnCurve.Point::seconds), f3(j, LearnCurve.Point::top1), f3(j, LearnCurve.Point::top1TenView), g(j),
          f1(t, LearnCurve.Point::seconds), f3(t, LearnCurve.Point::top1), f3(t, LearnCurve.Point::top1TenView), g(t),
          ratio(j, t, LearnCurve.Point::top1), ratio(j, t, LearnCurve.Point::top1TenView)));
    }
    return s.toString();
  }

  /** At common wall times, one seed: each side's last evaluation by then; then each side's final one. */
  public String timeTable(Pair p) {
    double budget = p.budgetSeconds(budgetSeconds);
    StringBuilder s = new StringBuilder();
    s.append("| wall time | java epoch | java samples | java top-1 | java 10-view | torch epoch | torch samples | torch top-1 | torch 10-view | ratio top-1 | ratio 10-view |\n");
    s.append("|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (double f : TIME_FRACTIONS) {
      double at = budget * f;
      row(s, String.format(Locale.ROOT, "%.0f s", at), p.java().lastBy(at), p.torch().lastBy(at));
    }
    row(s, "end", p.java().last(), p.torch().last());
    return s.toString();
  }

  private static void row(StringBuilder s, String label, Optional<LearnCurve.Point> j, Optional<LearnCurve.Point> t) {
    s.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |%n", label,
        epoch(j), j.map(x -> Long.toString(x.samples())).orElse("-"), f3(j, LearnCurve.Point::top1), f3(j, LearnCurve.Point::top1TenView),
        epoch(t), t.map(x -> Long.toString(x.samples())).orElse("-"), f3(t, LearnCurve.Point::top1), f3(t, LearnCurve.Point::top1TenView),
        ratio(j, t, LearnCurve.Point::top1), ratio(j, t, LearnCurve.Point::top1TenView)));
  }

  /** Mean over seeds of the epochs all seeds' both sides closed. */
  public String meanEpochTable() {
    int epochs = pairs.stream().mapToInt(Pair::commonEpochs).min().orElse(0);
    StringBuilder s = new StringBuilder();
    s.append("| epoch | java top-1 | java 10-view | torch top-1 | torch 10-view | ratio top-1 | ratio 10-view |\n");
    s.append("|---|---|---|---|---|---|---|\n");
    for (int e = 1; e <= epochs; e++) {
      int ep = e;
      double jc = mean(p -> p.java().atEpoch(ep).orElseThrow().top1());
      double jt = mean(p -> p.java().atEpoch(ep).orElseThrow().top1TenView());
      double tc = mean(p -> p.torch().atEpoch(ep).orElseThrow().top1());
      double tt = mean(p -> p.torch().atEpoch(ep).orElseThrow().top1TenView());
      s.append(String.format(Locale.ROOT, "| %d | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f |%n", e, jc, jt, tc, tt, jc / tc, jt / tt));
    }
    return s.toString();
  }

  /**
   * The summary, means over seeds: errors at equal wall time ({@link #atEqualTime}), errors at the
   * last epoch both sides closed, samples per second, and the ratios java / torch.
   */
  public Map<String, String> summary() {
    Map<String, String> kv = new LinkedHashMap<>();
    double jEnd = mean(p -> atEqualTime(p, p.java()).map(LearnCurve.Point::top1).orElse(Double.NaN));
    double tEnd = mean(p -> atEqualTime(p, p.torch()).map(LearnCurve.Point::top1).orElse(Double.NaN));
    double jEnd10 = mean(p -> atEqualTime(p, p.java()).map(LearnCurve.Point::top1TenView).orElse(Double.NaN));
    double tEnd10 = mean(p -> atEqualTime(p, p.torch()).map(LearnCurve.Point::top1TenView).orElse(Double.NaN));
    List<Pair> withEpochs = pairs.stream().filter(p -> p.commonEpochs() > 0).toList();
    double jEp = mean(withEpochs, p -> p.java().atEpoch(p.commonEpochs()).orElseThrow().top1());
    double tEp = mean(withEpochs, p -> p.torch().atEpoch(p.commonEpochs()).orElseThrow().top1());
    double jEp10 = mean(withEpochs, p -> p.java().atEpoch(p.commonEpochs()).orElseThrow().top1TenView());
    double tEp10 = mean(withEpochs, p -> p.torch().atEpoch(p.commonEpochs()).orElseThrow().top1TenView());
    double jRate = mean(p -> p.java().samplesPerSecond());
    double tRate = mean(p -> p.torch().samplesPerSecond());
    kv.put("top1_err_java", f(jEnd));
    kv.put("top1_err_torch", f(tEnd));
    kv.put("top1_10v_err_java", f(jEnd10));
    kv.put("top1_10v_err_torch", f(tEnd10));
    kv.put("ratio_time", f(jEnd / tEnd));
    kv.put("ratio_time_10v", f(jEnd10 / tEnd10));
    kv.put("epochs_equal", String.join(",", pairs.stream().map(p -> Integer.toString(p.commonEpochs())).toList()));
    kv.put("top1_err_java_equal_samples", f(jEp));
    kv.put("top1_err_torch_equal_samples", f(tEp));
    kv.put("ratio_samples", f(jEp / tEp));
    kv.put("ratio_samples_10v", f(jEp10 / tEp10));
    kv.put("samples_s_java", String.format(Locale.ROOT, "%.1f", jRate));
    kv.put("samples_s_torch", String.format(Locale.ROOT, "%.1f", tRate));
    kv.put("ratio_speed", f(jRate / tRate));
    kv.put("seeds", String.join(",", pairs.stream().map(p -> Long.toString(p.seed())).toList()));
    return kv;
  }

  /**
   * A side's result at equal wall time: with a time budget, its final evaluation (both trained for
   * the budget); without one, its last evaluation by the time the faster side finished.
   */
  Optional<LearnCurve.Point> atEqualTime(Pair p, LearnCurve side) {
    return budgetSeconds > 0 ? side.last() : side.lastBy(p.budgetSeconds(0));
  }

  private double mean(ToDoubleFunction<Pair> f) {
    return mean(pairs, f);
  }

  private static double mean(List<Pair> of, ToDoubleFunction<Pair> f) {
    return of.isEmpty() ? Double.NaN : of.stream().mapToDouble(f).average().orElse(Double.NaN);
  }

  static String f(double v) {
    return Double.isNaN(v) || Double.isInfinite(v) ? "nan" : String.format(Locale.ROOT, "%.3f", v);
  }

  private static String f3(Optional<LearnCurve.Point> p, ToDoubleFunction<LearnCurve.Point> f) {
    return p.map(x -> f(f.applyAsDouble(x))).orElse("-");
  }

  private static String f1(Optional<LearnCurve.Point> p, ToDoubleFunction<LearnCurve.Point> f) {
    return p.map(x -> String.format(Locale.ROOT, "%.1f", f.applyAsDouble(x))).orElse("-");
  }

  private static String g(Optional<LearnCurve.Point> p) {
    return p.map(x -> Double.isNaN(x.lr()) ? "-" : String.format(Locale.ROOT, "%.0e", x.lr())).orElse("-");
  }

  private static String epoch(Optional<LearnCurve.Point> p) {
    return p.map(x -> x.epochEnd() ? Integer.toString(x.epoch()) : x.epoch() + " (part)").orElse("-");
  }

  private static String ratio(Optional<LearnCurve.Point> j, Optional<LearnCurve.Point> t, ToDoubleFunction<LearnCurve.Point> f) {
    if (j.isEmpty() || t.isEmpty()) {
      return "-";
    }
    return f(f.applyAsDouble(j.get()) / f.applyAsDouble(t.get()));
  }

  /** A summary as one {@code key=value} line. */
  static String line(Map<String, String> kv) {
    List<String> parts = new ArrayList<>();
    kv.forEach((k, v) -> parts.add(k + "=" + v));
    return String.join(" ", parts);
  }
}
