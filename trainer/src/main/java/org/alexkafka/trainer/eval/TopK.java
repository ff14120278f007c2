package org.alexkafka.trainer.eval;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Top-1 and top-5 accuracy of a batch of class scores against one-hot labels. */
public final class TopK {

  private TopK() {
  }

  /** {top-1 accuracy, top-5 accuracy} in 0..1. */
  public static double[] accuracy(INDArray scores, INDArray oneHotLabels) {
    int n = (int) scores.size(0);
    int classes = (int) scores.size(1);
    float[] p = scores.castTo(DataType.FLOAT).dup('c').data().asFloat();
    float[] y = oneHotLabels.castTo(DataType.FLOAT).dup('c').data().asFloat();
    int top1 = 0;
    int top5 = 0;
    for (int b = 0; b < n; b++) {
      int label = 0;
      for (int c = 0; c < classes; c++) {
        if (y[b * classes + c] > 0.5f) {
          label = c;
        }
      }
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
