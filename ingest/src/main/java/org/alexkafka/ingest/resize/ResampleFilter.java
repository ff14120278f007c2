package org.alexkafka.ingest.resize;

/**
 * Reconstruction kernels for {@link Resampler}. On a reduction the kernel is stretched by the
 * reduction factor, so every source pixel under the output pixel's footprint contributes: that is
 * what makes the downscale antialiased (plain bilinear sampling reads only the 2x2 nearest pixels
 * and aliases once the factor passes 2).
 */
public enum ResampleFilter {

  /**
   * Tent filter ("bilinear" in Pillow's sense, support 1, widened by the scale factor). The
   * default: antialiased, no ringing or overshoot (weights never go negative), the cheapest
   * antialiased kernel, and the same kernel the Pillow reference uses, so the two pipelines can be
   * compared pixel for pixel.
   */
  TRIANGLE(1.0, true) {
    @Override
    double weight(double x) {
      x = Math.abs(x);
      return x < 1.0 ? 1.0 - x : 0.0;
    }
  },

  /** Keys cubic with a = -0.5 (Catmull-Rom, Pillow's BICUBIC): sharper, with slight ringing. */
  CATMULL_ROM(2.0, false) {
    @Override
    double weight(double x) {
      double a = -0.5;
      x = Math.abs(x);
      if (x < 1.0) {
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
      }
      if (x < 2.0) {
        return (((x - 5) * x + 8) * x - 4) * a;
      }
      return 0.0;
    }
  };

  private final double support;
  private final boolean nonNegative;

  ResampleFilter(double support, boolean nonNegative) {
    this.support = support;
    this.nonNegative = nonNegative;
  }

  /** No negative lobes: weighted sums of 8-bit samples stay within 0..255 (no clamping needed). */
  public boolean nonNegative() {
    return nonNegative;
  }

  /** Half-width of the kernel at scale 1, in source pixels. */
  public double support() {
    return support;
  }

  abstract double weight(double x);
}
