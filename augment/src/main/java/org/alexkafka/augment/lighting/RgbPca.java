package org.alexkafka.augment.lighting;

import java.util.Arrays;
import java.util.List;

/**
 * Principal components of the training set's RGB pixel values (0..255 units): eigenvalues
 * λ1 ≥ λ2 ≥ λ3 of the 3×3 covariance (pixel units squared) and the eigenvectors p1..p3 as the
 * columns of a row-major 3×3 matrix, as in the {@code Stats} record.
 */
public record RgbPca(double[] eigenvalues, double[] eigenvectors) {

  /** No statistics yet: every lighting shift is zero. */
  public static final RgbPca NONE = new RgbPca(new double[3], new double[9]);

  public RgbPca {
    if (eigenvalues.length != 3 || eigenvectors.length != 9) {
      throw new IllegalArgumentException("need 3 eigenvalues and a 3x3 eigenvector matrix, got "
          + eigenvalues.length + " and " + eigenvectors.length);
    }
    if (Arrays.stream(eigenvalues).anyMatch(v -> !Double.isFinite(v))
        || Arrays.stream(eigenvectors).anyMatch(v -> !Double.isFinite(v))) {
      throw new IllegalArgumentException("eigenvalues and eigenvectors must be finite, got "
          + Arrays.toString(eigenvalues) + " and " + Arrays.toString(eigenvectors));
    }
    eigenvalues = eigenvalues.clone();
    eigenvectors = eigenvectors.clone();
  }

  /** From the {@code Stats} record's lists; empty lists (no statistics yet) give {@link #NONE}. */
  public static RgbPca of(List<Double> eigenvalues, List<Double> eigenvectors) {
    if (eigenvalues == null || eigenvalues.isEmpty()) {
      return NONE;
    }
    return new RgbPca(eigenvalues.stream().mapToDouble(Double::doubleValue).toArray(),
        eigenvectors.stream().mapToDouble(Double::doubleValue).toArray());
  }

  /** Component {@code row} (0=R,1=G,2=B) of eigenvector p{@code column+1}. */
  public double vector(int row, int column) {
    return eigenvectors[row * 3 + column];
  }

  public double eigenvalue(int i) {
    return eigenvalues[i];
  }

  public boolean isNone() {
    return Arrays.stream(eigenvalues).allMatch(v -> v == 0.0);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RgbPca p && Arrays.equals(eigenvalues, p.eigenvalues) && Arrays.equals(eigenvectors, p.eigenvectors);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(eigenvalues) + Arrays.hashCode(eigenvectors);
  }

  @Override
  public String toString() {
    return "RgbPca[eigenvalues=" + Arrays.toString(eigenvalues) + ", eigenvectors=" + Arrays.toString(eigenvectors) + "]";
  }
}
