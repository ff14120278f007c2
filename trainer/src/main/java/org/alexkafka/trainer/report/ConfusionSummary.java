package org.alexkafka.trainer.report;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** A confusion matrix (rows = true class, columns = predicted) and what a person reads from it. */
public record ConfusionSummary(List<String> classNames, long[][] counts) {

  public record Confusion(String label, String predicted, long count) {}

  /** Validation images of the class (centre crops). */
  public long imagesOf(int classIndex) {
    long total = 0;
    for (long c : counts[classIndex]) {
      total += c;
    }
    return total;
  }

  /** Top-1 error on the class's images; NaN when it has none. */
  public double top1ErrorOf(int classIndex) {
    long total = imagesOf(classIndex);
    return total == 0 ? Double.NaN : 1 - (double) counts[classIndex][classIndex] / total;
  }

  /** The share of a class's images predicted as each class (each row sums to 1; a row without images is 0). */
  public double[][] rowNormalised() {
    double[][] shares = new double[counts.length][];
    for (int t = 0; t < counts.length; t++) {
      long total = imagesOf(t);
      shares[t] = new double[counts[t].length];
      for (int p = 0; p < counts[t].length; p++) {
        shares[t][p] = total == 0 ? 0 : (double) counts[t][p] / total;
      }
    }
    return shares;
  }

  /** The most frequent off-diagonal cells, largest first. */
  public List<Confusion> topConfusions(int limit) {
    List<Confusion> all = new ArrayList<>();
    for (int t = 0; t < counts.length; t++) {
      for (int p = 0; p < counts[t].length; p++) {
        if (t != p && counts[t][p] > 0) {
          all.add(new Confusion(classNames.get(t), classNames.get(p), counts[t][p]));
        }
      }
    }
    all.sort(Comparator.comparingLong(Confusion::count).reversed());
    return all.subList(0, Math.min(limit, all.size()));
  }
}
