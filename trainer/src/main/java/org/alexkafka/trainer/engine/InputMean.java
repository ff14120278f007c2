package org.alexkafka.trainer.engine;

/**
 * The training images' per-pixel mean as the network's input subtracts it: one plane per channel
 * (R, G, B; row-major, {@code height} rows of {@code width}), and the same planes flipped left to
 * right, so that a crop's rows, mirrored or not, are contiguous runs. Made once per run from the
 * mean image (interleaved RGB, as the {@code stats} topic gives it); shared by every batch.
 */
public final class InputMean {

  private final int width;
  private final int height;
  private final float[][] planes;
  private final float[][] mirroredPlanes;

  /** @param interleaved height x width x 3 values, row-major */
  public InputMean(int width, int height, float[] interleaved) {
    if (interleaved.length != width * height * 3) {
      throw new IllegalArgumentException("a " + width + "x" + height + " mean image has " + width * height * 3 + " values, not "
          + interleaved.length);
    }
    this.width = width;
    this.height = height;
    this.planes = new float[3][width * height];
    this.mirroredPlanes = new float[3][width * height];
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        for (int c = 0; c < 3; c++) {
          float v = interleaved[(y * width + x) * 3 + c];
          planes[c][y * width + x] = v;
          mirroredPlanes[c][y * width + (width - 1 - x)] = v;
        }
      }
    }
  }

  public int width() {
    return width;
  }

  public int height() {
    return height;
  }

  /** Channel {@code c}'s plane (not a copy: do not change it). */
  public float[] plane(int c) {
    return planes[c];
  }

  /**
   * One crop into {@code out} at {@code base} as the network takes it, channel planes of {@code
   * crop} x {@code crop}: out = pixel − mean + lighting, in that order (float arithmetic), for
   * 8-bit interleaved RGB pixels at {@code px[start..]}. The pixels are already mirrored when the
   * crop is (crop column x came from image column cropX + crop − 1 − x), which in the flipped mean
   * is column (width − cropX − crop) + x: so the output and the mean are both read in runs, which
   * the JIT compiles to tight loops.
   */
  public void fill(byte[] px, int start, int crop, int cropX, int cropY, boolean mirrored, float[] lighting, int lightingAt,
      float[] out, int base) {
    if (cropX < 0 || cropY < 0 || cropX + crop > width || cropY + crop > height) {
      throw new IllegalArgumentException("a " + crop + " crop at (" + cropX + "," + cropY + ") lies outside the " + width + "x"
          + height + " mean image");
    }
    int plane = crop * crop;
    float[][] source = mirrored ? mirroredPlanes : planes;
    int x0 = mirrored ? width - cropX - crop : cropX;
    for (int c = 0; c < 3; c++) {
      float light = lighting[lightingAt + c];
      float[] m = source[c];
      int o = base + c * plane;
      for (int y = 0; y < crop; y++) {
        int mi = (cropY + y) * width + x0;
        int pi = start + y * crop * 3 + c;
        for (int x = 0; x < crop; x++) {
          out[o + x] = (px[pi + 3 * x] & 0xFF) - m[mi + x] + light;
        }
        o += crop;
      }
    }
  }
}
