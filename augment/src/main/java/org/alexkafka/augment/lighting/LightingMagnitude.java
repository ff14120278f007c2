package org.alexkafka.augment.lighting;

/**
 * What the paper's λi stands for in {@code [p1 p2 p3]·[α1λ1, α2λ2, α3λ3]ᵀ}, with pixels in 0..255.
 *
 * <p>Read literally with λ the covariance eigenvalue in pixel units², the shift would be
 * ~0.1 × 3000 ≈ 300 pixel levels (saturating every image). Krizhevsky's own cuda-convnet2 data
 * provider and the common reimplementations (fb.resnet.torch, torchvision's reference "Lighting")
 * scale by the standard deviation along each component, √λ, which gives shifts of a few pixel
 * levels; that is the default here.
 */
public enum LightingMagnitude {
  /** λi := √(eigenvalue), the standard deviation along pi, in pixel units (default). */
  STDDEV,
  /** λi := the eigenvalue itself, in pixel units² (the formula read literally). */
  EIGENVALUE;

  public double of(double eigenvalue) {
    double nonNegative = Math.max(0.0, eigenvalue); // round-off can make a tiny eigenvalue negative
    return this == STDDEV ? Math.sqrt(nonNegative) : nonNegative;
  }
}
