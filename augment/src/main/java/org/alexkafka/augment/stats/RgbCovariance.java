package org.alexkafka.augment.stats;

import org.alexkafka.augment.lighting.RgbPca;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.EigenDecomposition;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.linear.RealVector;

/** The 3×3 RGB covariance of the summed pixels and its eigen-decomposition (Commons Math). */
public final class RgbCovariance {

  private RgbCovariance() {}

  /** Population covariance E[xxᵀ] − E[x]E[x]ᵀ over all summed pixels, in pixel units². */
  public static double[][] covariance(StatsAccumulator acc) {
    double n = acc.pixelCount();
    double[][] c = new double[3][3];
    if (n == 0) {
      return c;
    }
    long[] s = acc.channelSums();
    long[] p = acc.channelProducts();
    int[][] productIndex = {{0, 1, 2}, {1, 3, 4}, {2, 4, 5}};
    for (int i = 0; i < 3; i++) {
      for (int j = 0; j < 3; j++) {
        c[i][j] = p[productIndex[i][j]] / n - (s[i] / n) * (s[j] / n);
      }
    }
    return c;
  }

  /** Eigenvalues descending and eigenvectors as columns (row-major); {@link RgbPca#NONE} with no pixels. */
  public static RgbPca pca(StatsAccumulator acc) {
    if (acc.pixelCount() == 0) {
      return RgbPca.NONE;
    }
    return pca(covariance(acc));
  }

  public static RgbPca pca(double[][] symmetric) {
    RealMatrix m = new Array2DRowRealMatrix(symmetric, true);
    EigenDecomposition eigen = new EigenDecomposition(m);
    double[] values = eigen.getRealEigenvalues();
    Integer[] order = {0, 1, 2};
    java.util.Arrays.sort(order, (a, b) -> Double.compare(values[b], values[a]));
    double[] sortedValues = new double[3];
    double[] vectors = new double[9];
    for (int col = 0; col < 3; col++) {
      int k = order[col];
      sortedValues[col] = values[k];
      RealVector v = eigen.getEigenvector(k);
      // Fix the sign so the result is reproducible: the largest component of each vector is positive.
      int largest = 0;
      for (int r = 1; r < 3; r++) {
        if (Math.abs(v.getEntry(r)) > Math.abs(v.getEntry(largest))) {
          largest = r;
        }
      }
      double sign = v.getEntry(largest) < 0 ? -1 : 1;
      for (int row = 0; row < 3; row++) {
        vectors[row * 3 + col] = sign * v.getEntry(row);
      }
    }
    return new RgbPca(sortedValues, vectors);
  }
}
