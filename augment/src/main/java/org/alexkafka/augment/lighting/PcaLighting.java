package org.alexkafka.augment.lighting;

import java.util.Random;

/**
 * The paper's colour augmentation: add {@code [p1 p2 p3]·[α1λ1, α2λ2, α3λ3]ᵀ} to every pixel of one
 * presentation, αi ~ N(0, σ) with σ = 0.1. Pure functions; the shift travels with the sample and
 * is added by the trainer when it builds the float batch, so the sample's pixels stay 8-bit exact.
 */
public final class PcaLighting {

  /** The paper's standard deviation of the αi. */
  public static final double PAPER_ALPHA_STD = 0.1;

  private PcaLighting() {}

  /** Three αi ~ N(0, std), drawn in order α1, α2, α3. */
  public static double[] drawAlphas(Random random, double std) {
    return new double[] {random.nextGaussian() * std, random.nextGaussian() * std, random.nextGaussian() * std};
  }

  /**
   * The RGB shift {@code Σi pi·(αi·m(λi))}, in 0..255 pixel units, where m is the chosen
   * {@link LightingMagnitude}. Zero when there are no statistics yet.
   */
  public static float[] shift(RgbPca pca, double[] alphas, LightingMagnitude magnitude) {
    float[] rgb = new float[3];
    for (int channel = 0; channel < 3; channel++) {
      double sum = 0;
      for (int i = 0; i < 3; i++) {
        sum += pca.vector(channel, i) * alphas[i] * magnitude.of(pca.eigenvalue(i));
      }
      rgb[channel] = (float) sum;
    }
    return rgb;
  }

  /**
   * What the trainer sees: the 8-bit pixels with the shift added, as floats in 0..255 units (not
   * clamped, as the network input is not). Used by the render tool and the tests.
   */
  public static float[] apply(byte[] pixels, float[] shift) {
    float[] out = new float[pixels.length];
    for (int i = 0; i < pixels.length; i++) {
      out[i] = (pixels[i] & 0xff) + shift[i % 3];
    }
    return out;
  }
}
