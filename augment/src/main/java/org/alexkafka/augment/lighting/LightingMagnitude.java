package org.alexkafka.augment.lighting;

/**
 * What the paper's λi stands for in {@code [p1 p2 p3]·[α1λ1, α2λ2, α3λ3]ᵀ}. The statistics hold the
 * covariance eigenvalues of 0..255 pixel values (pixel units²) and the shift is carried in pixel
 * units, so the choice is the scale on which the paper's formula is read:
 *
 * <ul>
 *   <li>{@link #UNIT_RANGE} (default): the formula on pixels scaled to 0..1, converted back to pixel
 *       units: {@code shift = 255·Σ pi·αi·(λi/255²) = Σ pi·αi·λi/255}. On the imagenette photos the
 *       0..1-scale eigenvalues come out as ≈ 0.220, 0.020, 0.003, matching the ImageNet constants
 *       widely used for this augmentation (0.2175, 0.0188, 0.0045, applied as α·λ), so this is the
 *       reading those implementations share; typical shifts are a few pixel levels.</li>
 *   <li>{@link #STDDEV}: λi := √(eigenvalue) in pixel units (about twice the shift of the default).</li>
 *   <li>{@link #PIXEL_RANGE}: λi := the eigenvalue in pixel units², the formula on 0..255 values:
 *       shifts of hundreds of levels, which saturate every image; for completeness only.</li>
 * </ul>
 */
public enum LightingMagnitude {
  UNIT_RANGE,
  STDDEV,
  PIXEL_RANGE;

  /** The factor multiplying αi·pi, in pixel units, for an eigenvalue in pixel units². */
  public double of(double eigenvalue) {
    double nonNegative = Math.max(0.0, eigenvalue); // round-off can make a tiny eigenvalue negative
    return switch (this) {
      case UNIT_RANGE -> nonNegative / 255.0;
      case STDDEV -> Math.sqrt(nonNegative);
      case PIXEL_RANGE -> nonNegative;
    };
  }
}
