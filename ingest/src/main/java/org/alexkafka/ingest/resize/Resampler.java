package org.alexkafka.ingest.resize;

/**
 * Separable convolution resampling in fixed point (the weights of Pillow's {@code ImagingResample}:
 * per-output-pixel normalised kernel weights in 2^22 fixed point; one pass per axis, each rounded
 * to 8 bits, vertical first). Pure functions; thread-safe.
 *
 * <p>The paper's preprocessing, {@link #shorterSideThenCentreCrop}, computes only the output pixels
 * inside the crop: each output pixel depends only on its own kernel window, so cropping the
 * resized image and resizing only the cropped window give identical bytes, without computing the
 * discarded margins.
 */
public final class Resampler {

  /** Weights are integers scaled by 2^22: 8-bit samples times weights summing to ~2^22 fit an int. */
  private static final int PRECISION_BITS = 32 - 8 - 2;
  private static final int HALF = 1 << (PRECISION_BITS - 1);

  private Resampler() {}

  /** Size of the image after scaling its shorter side to {@code size} (longer side rounded). */
  public static int[] scaledSize(int width, int height, int size) {
    if (width <= height) {
      return new int[] {size, Math.max(size, (int) Math.round((double) height * size / width))};
    }
    return new int[] {Math.max(size, (int) Math.round((double) width * size / height)), size};
  }

  /** Top-left corner of the central size x size crop of a scaledWidth x scaledHeight image. */
  public static int[] centreCropOrigin(int scaledWidth, int scaledHeight, int size) {
    return new int[] {(scaledWidth - size) / 2, (scaledHeight - size) / 2};
  }

  /** The paper's preprocessing: shorter side to {@code size}, then the central size x size patch. */
  public static Pixels shorterSideThenCentreCrop(Pixels src, int size, ResampleFilter filter) {
    int[] scaled = scaledSize(src.width(), src.height(), size);
    int[] origin = centreCropOrigin(scaled[0], scaled[1], size);
    return resizeWindow(src, scaled[0], scaled[1], origin[0], origin[1], size, size, filter);
  }

  /** Resizes the whole image to outWidth x outHeight. */
  public static Pixels resize(Pixels src, int outWidth, int outHeight, ResampleFilter filter) {
    return resizeWindow(src, outWidth, outHeight, 0, 0, outWidth, outHeight, filter);
  }

  /**
   * The window [x0, x0+w) x [y0, y0+h) of {@code src} resized to outWidth x outHeight.
   */
  public static Pixels resizeWindow(Pixels src, int outWidth, int outHeight, int x0, int y0, int w, int h,
      ResampleFilter filter) {
    if (x0 < 0 || y0 < 0 || x0 + w > outWidth || y0 + h > outHeight) {
      throw new IllegalArgumentException("window outside the " + outWidth + "x" + outHeight + " output");
    }
    if (src.channels() == 3 && filter.nonNegative()) {
      return PackedRgb.resizeWindow(src, outWidth, outHeight, x0, y0, w, h, filter);
    }
    Kernel horizontal = Kernel.of(src.width(), outWidth, x0, w, filter, PRECISION_BITS);
    Kernel vertical = Kernel.of(src.height(), outHeight, y0, h, filter, PRECISION_BITS);
    // Vertical pass first, on the source columns the horizontal kernels read: it is the pass the
    // JIT vectorises (a straight loop over contiguous bytes), so it gets the larger share of the work.
    int firstCol = horizontal.minIndex();
    int lastCol = horizontal.maxIndexExclusive();
    byte[] columns = verticalPass(src, firstCol, lastCol, vertical, h);
    Pixels window = new Pixels(lastCol - firstCol, h, src.channels(), columns);
    byte[] out = horizontalPass(window, horizontal, w, firstCol);
    return new Pixels(w, h, src.channels(), out);
  }

  /** Rows of the window resampled horizontally; kernel indices are shifted by {@code firstCol}. */
  private static byte[] horizontalPass(Pixels src, Kernel k, int outW, int firstCol) {
    int c = src.channels();
    int inRowLen = src.width() * c;
    int outRowLen = outW * c;
    byte[] in = src.data();
    byte[] out = new byte[src.height() * outRowLen];
    int[] weights = k.weights;
    for (int y = 0; y < src.height(); y++) {
      int inRow = y * inRowLen;
      int outRow = y * outRowLen;
      for (int x = 0; x < outW; x++) {
        int xmin = k.bounds[2 * x] - firstCol;
        int taps = k.bounds[2 * x + 1];
        int wOff = x * k.maxTaps;
        if (c == 3) {
          int r = HALF;
          int g = HALF;
          int b = HALF;
          int p = inRow + xmin * 3;
          for (int t = 0; t < taps; t++, p += 3) {
            int wt = weights[wOff + t];
            r += (in[p] & 0xFF) * wt;
            g += (in[p + 1] & 0xFF) * wt;
            b += (in[p + 2] & 0xFF) * wt;
          }
          int o = outRow + x * 3;
          out[o] = clip8(r);
          out[o + 1] = clip8(g);
          out[o + 2] = clip8(b);
        } else {
          for (int ch = 0; ch < c; ch++) {
            int acc = HALF;
            int p = inRow + xmin * c + ch;
            for (int t = 0; t < taps; t++, p += c) {
              acc += (in[p] & 0xFF) * weights[wOff + t];
            }
            out[outRow + x * c + ch] = clip8(acc);
          }
        }
      }
    }
    return out;
  }

  /** Output rows of the columns [firstCol, lastCol) of the source, resampled vertically. */
  private static byte[] verticalPass(Pixels src, int firstCol, int lastCol, Kernel k, int outH) {
    int c = src.channels();
    int srcRowLen = src.width() * c;
    int rowLen = (lastCol - firstCol) * c;
    int colOffset = firstCol * c;
    byte[] in = src.data();
    byte[] out = new byte[outH * rowLen];
    int[] acc = new int[rowLen];
    for (int y = 0; y < outH; y++) {
      java.util.Arrays.fill(acc, HALF);
      int ymin = k.bounds[2 * y];
      int taps = k.bounds[2 * y + 1];
      for (int t = 0; t < taps; t++) {
        int wt = k.weights[y * k.maxTaps + t];
        int base = (ymin + t) * srcRowLen + colOffset;
        for (int i = 0; i < rowLen; i++) {
          acc[i] += (in[base + i] & 0xFF) * wt;
        }
      }
      int o = y * rowLen;
      for (int i = 0; i < rowLen; i++) {
        out[o + i] = clip8(acc[i]);
      }
    }
    return out;
  }

  private static byte clip8(int acc) {
    int v = acc >> PRECISION_BITS;
    return (byte) (v < 0 ? 0 : Math.min(v, 255));
  }

  /** Per-output-pixel source window (first index, tap count) and fixed-point weights. */
  static final class Kernel {
    final int[] bounds;
    final int[] weights;
    final int maxTaps;

    private Kernel(int[] bounds, int[] weights, int maxTaps) {
      this.bounds = bounds;
      this.weights = weights;
      this.maxTaps = maxTaps;
    }

    int minIndex() {
      int min = Integer.MAX_VALUE;
      for (int i = 0; i < bounds.length; i += 2) {
        min = Math.min(min, bounds[i]);
      }
      return min;
    }

    int maxIndexExclusive() {
      int max = 0;
      for (int i = 0; i < bounds.length; i += 2) {
        max = Math.max(max, bounds[i] + bounds[i + 1]);
      }
      return max;
    }

    /** Kernels for output positions [first, first+count) of an inSize -> outSize resize. */
    static Kernel of(int inSize, int outSize, int first, int count, ResampleFilter filter, int precisionBits) {
      double scale = (double) inSize / outSize;
      double filterScale = Math.max(scale, 1.0);
      double support = filter.support() * filterScale;
      int maxTaps = (int) Math.ceil(support) * 2 + 1;
      int[] bounds = new int[2 * count];
      int[] weights = new int[count * maxTaps];
      double[] k = new double[maxTaps];
      for (int i = 0; i < count; i++) {
        int xx = first + i;
        double centre = (xx + 0.5) * scale;
        int xmin = Math.max((int) (centre - support + 0.5), 0);
        int xmax = Math.min((int) (centre + support + 0.5), inSize) - xmin;
        double total = 0;
        for (int x = 0; x < xmax; x++) {
          double w = filter.weight((x + xmin - centre + 0.5) / filterScale);
          k[x] = w;
          total += w;
        }
        int sum = 0;
        int largest = 0;
        for (int x = 0; x < xmax; x++) {
          double w = total != 0 ? k[x] / total : 0;
          int fixed = (int) (w < 0 ? w * (1 << precisionBits) - 0.5 : w * (1 << precisionBits) + 0.5);
          weights[i * maxTaps + x] = fixed;
          sum += fixed;
          if (fixed > weights[i * maxTaps + largest]) {
            largest = x;
          }
        }
        // Make the weights sum to exactly 1.0 in fixed point: flat areas stay exactly flat, and
        // the packed path relies on it to never overflow a lane.
        weights[i * maxTaps + largest] += (1 << precisionBits) - sum;
        bounds[2 * i] = xmin;
        bounds[2 * i + 1] = xmax;
      }
      return new Kernel(bounds, weights, maxTaps);
    }
  }
}
