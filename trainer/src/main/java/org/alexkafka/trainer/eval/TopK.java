package org.alexkafka.trainer.eval;


/** Top-1 and top-5 accuracy of a batch of class scores against the true classes. */
public final class TopK {

  private TopK() {
  }

  /** {top-1 accuracy, top-5 accuracy} in 0..1. */
  public static double[] accuracy(float[] p, int[] labels, int classes) {
    int n = labels.length;
    if (p.length != n * classes) {
      throw new IllegalArgumentException(p.length + " scores for " + n + " samples of " + classes + " classes");
    }
    int top1 = 0;
    int top5 = 0;
    for (int b = 0; b < n; b++) {
      int label = labels[b];
      float target = p[b * classes + label];
      int higher = 0;
      for (int c = 0; c < classes; c++) {
        if (p[b * classes + c] > target) {
          higher++;
        }
      }
      top1 += higher == 0 ? 1 : 0;
      top5 += higher < 5 ? 1 : 0;
    }
    return new double[] {(double) top1 / n, (double) top5 / n};
  }
}
