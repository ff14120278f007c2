package org.alexkafka.ingest.resize;

import org.alexkafka.ingest.resize.Resampler.Kernel;

/**
 * The fast path of {@link Resampler} for 3-channel rasters and kernels without negative weights:
 * the three channels of a pixel travel in one {@code long}, 21 bits apart, so one multiply-add
 * filters all three (SWAR). With 12-bit weights summing to exactly 4096, a lane holds at most
 * 255 * 4096 + 2048 < 2^21: lanes never carry into each other and no clamping is needed. 12-bit
 * weights differ from 22-bit ones by at most one grey level on a few pixels.
 */
final class PackedRgb {

  static final int WEIGHT_BITS = 12;
  private static final int LANE = 21;
  /** 0.5 in each lane: rounds to nearest when the weight bits are shifted out. */
  private static final long ROUND = (1L << (WEIGHT_BITS - 1)) | (1L << (LANE + WEIGHT_BITS - 1)) | (1L << (2 * LANE + WEIGHT_BITS - 1));
  /** The low 8 bits of each lane. */
  private static final long BYTES = 0xFFL | (0xFFL << LANE) | (0xFFL << (2 * LANE));

  private PackedRgb() {}

  static Pixels resizeWindow(Pixels src, int outWidth, int outHeight, int x0, int y0, int w, int h, ResampleFilter filter) {
    Kernel horizontal = Kernel.of(src.width(), outWidth, x0, w, filter, WEIGHT_BITS);
    Kernel vertical = Kernel.of(src.height(), outHeight, y0, h, filter, WEIGHT_BITS);
    int firstCol = horizontal.minIndex();
    int cols = horizontal.maxIndexExclusive() - firstCol;
    int firstRow = vertical.minIndex();
    int rows = vertical.maxIndexExclusive() - firstRow;

    long[] packed = pack(src, firstCol, cols, firstRow, rows);

    // Vertical pass over the packed window: h rows of `cols` pixels, rounded back to 8 bits a lane.
    long[] mid = new long[h * cols];
    long[] acc = new long[cols];
    for (int y = 0; y < h; y++) {
      java.util.Arrays.fill(acc, ROUND);
      int ymin = vertical.bounds[2 * y] - firstRow;
      int taps = vertical.bounds[2 * y + 1];
      for (int t = 0; t < taps; t++) {
        long wt = vertical.weights[y * vertical.maxTaps + t];
        int base = (ymin + t) * cols;
        for (int i = 0; i < cols; i++) {
          acc[i] += packed[base + i] * wt;
        }
      }
      int o = y * cols;
      for (int i = 0; i < cols; i++) {
        mid[o + i] = (acc[i] >>> WEIGHT_BITS) & BYTES;
      }
    }

    // Horizontal pass, straight to interleaved bytes.
    byte[] out = new byte[w * h * 3];
    int[] weights = horizontal.weights;
    for (int y = 0; y < h; y++) {
      int row = y * cols;
      int o = y * w * 3;
      for (int x = 0; x < w; x++) {
        int p = row + horizontal.bounds[2 * x] - firstCol;
        int taps = horizontal.bounds[2 * x + 1];
        int wOff = x * horizontal.maxTaps;
        long a = ROUND;
        for (int t = 0; t < taps; t++) {
          a += mid[p + t] * weights[wOff + t];
        }
        long v = (a >>> WEIGHT_BITS) & BYTES;
        out[o++] = (byte) v;
        out[o++] = (byte) (v >>> LANE);
        out[o++] = (byte) (v >>> (2 * LANE));
      }
    }
    return new Pixels(w, h, 3, out);
  }

  private static long[] pack(Pixels src, int firstCol, int cols, int firstRow, int rows) {
    byte[] in = src.data();
    long[] packed = new long[rows * cols];
    int rowLen = src.width() * 3;
    for (int y = 0; y < rows; y++) {
      int p = (firstRow + y) * rowLen + firstCol * 3;
      int o = y * cols;
      for (int x = 0; x < cols; x++, p += 3) {
        packed[o + x] = (in[p] & 0xFFL) | ((in[p + 1] & 0xFFL) << LANE) | ((in[p + 2] & 0xFFL) << (2 * LANE));
      }
    }
    return packed;
  }
}
