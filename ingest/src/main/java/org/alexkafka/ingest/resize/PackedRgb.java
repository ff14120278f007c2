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

    long[][] scratch = SCRATCH.get();
    long[] packed = pack(src, firstCol, cols, firstRow, rows, scratch);

    // Every horizontal kernel padded to the same tap count (zero weights, zero pixels beyond the
    // window): a fixed trip count the JIT unrolls, instead of short loops of varying length.
    int taps = 0;
    for (int x = 0; x < w; x++) {
      taps = Math.max(taps, horizontal.bounds[2 * x + 1]);
    }
    int k = taps <= 4 ? 4 : taps;
    long[] hw = new long[w * k];
    int[] start = new int[w];
    for (int x = 0; x < w; x++) {
      start[x] = horizontal.bounds[2 * x] - firstCol;
      for (int t = 0; t < horizontal.bounds[2 * x + 1]; t++) {
        hw[x * k + t] = horizontal.weights[x * horizontal.maxTaps + t];
      }
    }
    int stride = cols + k;

    // Vertical pass over the packed window: h rows of `cols` pixels, rounded back to 8 bits a lane.
    long[] mid = scratch(scratch, 1, h * stride);
    long[] acc = scratch(scratch, 2, cols);
    for (int y = 0; y < h; y++) {
      java.util.Arrays.fill(acc, ROUND);
      int ymin = vertical.bounds[2 * y] - firstRow;
      int vtaps = vertical.bounds[2 * y + 1];
      for (int t = 0; t < vtaps; t++) {
        long wt = vertical.weights[y * vertical.maxTaps + t];
        int base = (ymin + t) * cols;
        for (int i = 0; i < cols; i++) {
          acc[i] += packed[base + i] * wt;
        }
      }
      int o = y * stride;
      for (int i = 0; i < cols; i++) {
        mid[o + i] = (acc[i] >>> WEIGHT_BITS) & BYTES;
      }
    }

    // Horizontal pass, straight to interleaved bytes.
    byte[] out = new byte[w * h * 3];
    int o = 0;
    for (int y = 0; y < h; y++) {
      int row = y * stride;
      for (int x = 0; x < w; x++) {
        int p = row + start[x];
        int wo = x * k;
        long a = ROUND;
        if (k == 4) {
          a += mid[p] * hw[wo] + mid[p + 1] * hw[wo + 1] + mid[p + 2] * hw[wo + 2] + mid[p + 3] * hw[wo + 3];
        } else {
          for (int t = 0; t < k; t++) {
            a += mid[p + t] * hw[wo + t];
          }
        }
        long v = (a >>> WEIGHT_BITS) & BYTES;
        out[o++] = (byte) v;
        out[o++] = (byte) (v >>> LANE);
        out[o++] = (byte) (v >>> (2 * LANE));
      }
    }
    return new Pixels(w, h, 3, out);
  }

  /**
   * Per-thread work arrays, reused: a 500x375 photo needs ~2 MB of them, and allocating (zeroing)
   * that for every picture cost more than some of the passes. Every element read is written
   * first in the same call, except the horizontal padding, which only ever meets zero weights.
   */
  private static final ThreadLocal<long[][]> SCRATCH = ThreadLocal.withInitial(() -> new long[3][0]);

  /** Larger work arrays (big photos) are not kept: 2M longs = 16 MB per slot and thread at most. */
  private static final int MAX_KEPT = 2 << 20;

  private static long[] scratch(long[][] scratch, int slot, int size) {
    if (size > MAX_KEPT) {
      return new long[size];
    }
    if (scratch[slot].length < size) {
      scratch[slot] = new long[Math.min(MAX_KEPT, Math.max(size, scratch[slot].length * 3 / 2))];
    }
    return scratch[slot];
  }

  /** Little-endian int view of a byte array: one load fetches a pixel's three bytes. */
  private static final java.lang.invoke.VarHandle INT_LE =
      java.lang.invoke.MethodHandles.byteArrayViewVarHandle(int[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

  private static long[] pack(Pixels src, int firstCol, int cols, int firstRow, int rows, long[][] scratch) {
    byte[] in = src.data();
    long[] packed = scratch(scratch, 0, rows * cols);
    int rowLen = src.width() * 3;
    for (int y = 0; y < rows; y++) {
      int p = (firstRow + y) * rowLen + firstCol * 3;
      int o = y * cols;
      // All but the array's very last pixel can be read as a 4-byte int (the 4th byte is ignored).
      int room = in.length - 4 - p;
      int safe = room < 0 ? 0 : Math.min(cols, room / 3 + 1);
      int x = 0;
      for (; x < safe; x++, p += 3) {
        long v = (int) INT_LE.get(in, p);
        packed[o + x] = (v & 0xFFL) | ((v & 0xFF00L) << (LANE - 8)) | ((v & 0xFF0000L) << (2 * LANE - 16));
      }
      for (; x < cols; x++, p += 3) {
        packed[o + x] = (in[p] & 0xFFL) | ((in[p + 1] & 0xFFL) << LANE) | ((in[p + 2] & 0xFFL) << (2 * LANE));
      }
    }
    return packed;
  }
}
