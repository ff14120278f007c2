package org.alexkafka.trainer.report;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** A confusion matrix (rows = true class, columns = predicted) and what a person reads from it. */
public record ConfusionSummary(List<String> classNames, long[][] counts) {

  public record Confusion(String label, String predicted, long count) {}

  public double accuracyOf(int classIndex) {
    long total = 0;
    for (long c : counts[classIndex]) {
      total += c;
    }
    return total == 0 ? Double.NaN : (double) counts[classIndex][classIndex] / total;
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
