package org.alexkafka.augment.stats;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.alexkafka.augment.lighting.RgbPca;
import org.alexkafka.schemas.Stats;

/**
 * Exact integer sums over training images: per-position pixel sums (the mean image × count), the
 * per-channel sums and the six distinct products RR, RG, RB, GG, GB, BB. Integer sums make the
 * result independent of the order images arrive in, and partial sums add up exactly.
 */
public final class StatsAccumulator {

  private final int width;
  private final int height;
  private long count;
  private final long[] pixelSums;
  private final long[] channelSums = new long[3];
  private final long[] channelProducts = new long[6];

  public StatsAccumulator(int width, int height) {
    this.width = width;
    this.height = height;
    this.pixelSums = new long[width * height * 3];
  }

  public int width() {
    return width;
  }

  public int height() {
    return height;
  }

  public long count() {
    return count;
  }

  /** Adds one image of {@code width*height*3} RGB bytes starting at {@code offset}. */
  public void add(byte[] pixels, int offset) {
    int n = pixelSums.length;
    if (pixels.length - offset < n) {
      throw new IllegalArgumentException("an image of " + width + "x" + height + " needs " + n + " bytes, got "
          + (pixels.length - offset));
    }
    long r = 0, g = 0, b = 0, rr = 0, rg = 0, rb = 0, gg = 0, gb = 0, bb = 0;
    for (int i = 0; i < n; i += 3) {
      int pr = pixels[offset + i] & 0xff;
      int pg = pixels[offset + i + 1] & 0xff;
      int pb = pixels[offset + i + 2] & 0xff;
      pixelSums[i] += pr;
      pixelSums[i + 1] += pg;
      pixelSums[i + 2] += pb;
      r += pr;
      g += pg;
      b += pb;
      rr += pr * pr;
      rg += pr * pg;
      rb += pr * pb;
      gg += pg * pg;
      gb += pg * pb;
      bb += pb * pb;
    }
    channelSums[0] += r;
    channelSums[1] += g;
    channelSums[2] += b;
    long[] p = {rr, rg, rb, gg, gb, bb};
    for (int i = 0; i < 6; i++) {
      channelProducts[i] += p[i];
    }
    count++;
  }

  /** Adds another accumulator's sums (partials of other tasks). */
  public void addAll(StatsAccumulator other) {
    if (other.width != width || other.height != height) {
      throw new IllegalArgumentException("cannot add " + other.width + "x" + other.height + " statistics to "
          + width + "x" + height + " ones");
    }
    count += other.count;
    for (int i = 0; i < pixelSums.length; i++) {
      pixelSums[i] += other.pixelSums[i];
    }
    for (int i = 0; i < 3; i++) {
      channelSums[i] += other.channelSums[i];
    }
    for (int i = 0; i < 6; i++) {
      channelProducts[i] += other.channelProducts[i];
    }
  }

  /** Number of pixels summed over (count × width × height). */
  public long pixelCount() {
    return count * width * height;
  }

  public long[] channelSums() {
    return channelSums.clone();
  }

  public long[] channelProducts() {
    return channelProducts.clone();
  }

  public long pixelSum(int index) {
    return pixelSums[index];
  }

  /** The record, with the PCA of the RGB covariance (empty eigen lists while nothing is counted). */
  public Stats toStats(Instant at) {
    RgbPca pca = RgbCovariance.pca(this);
    List<Double> values = new ArrayList<>(3);
    List<Double> vectors = new ArrayList<>(9);
    if (count > 0) {
      Arrays.stream(pca.eigenvalues()).forEach(values::add);
      Arrays.stream(pca.eigenvectors()).forEach(vectors::add);
    }
    return Stats.newBuilder()
        .setCount(count)
        .setWidth(width)
        .setHeight(height)
        .setPixelSums(asList(pixelSums))
        .setChannelSums(asList(channelSums))
        .setChannelProducts(asList(channelProducts))
        .setEigenvalues(values)
        .setEigenvectors(vectors)
        .setUpdatedAt(at)
        .build();
  }

  /** Partial sums only, no PCA (the per-task partials the merge step adds up). */
  public Stats toPartialStats(Instant at) {
    return Stats.newBuilder()
        .setCount(count).setWidth(width).setHeight(height)
        .setPixelSums(asList(pixelSums)).setChannelSums(asList(channelSums)).setChannelProducts(asList(channelProducts))
        .setEigenvalues(List.of()).setEigenvectors(List.of())
        .setUpdatedAt(at)
        .build();
  }

  /** The sums of a record; throws IllegalArgumentException, allocating nothing, if they do not fit its size. */
  public static StatsAccumulator fromStats(Stats stats) {
    long expected = 3L * stats.getWidth() * stats.getHeight();
    if (stats.getWidth() <= 0 || stats.getHeight() <= 0 || stats.getPixelSums().size() != expected) {
      throw new IllegalArgumentException("stats of " + stats.getWidth() + "x" + stats.getHeight() + " carry "
          + stats.getPixelSums().size() + " pixel sums, expected " + expected);
    }
    if (stats.getChannelSums().size() != 3 || stats.getChannelProducts().size() != 6) {
      throw new IllegalArgumentException("stats carry " + stats.getChannelSums().size() + " channel sums and "
          + stats.getChannelProducts().size() + " channel products, expected 3 and 6");
    }
    StatsAccumulator acc = new StatsAccumulator(stats.getWidth(), stats.getHeight());
    acc.count = stats.getCount();
    for (int i = 0; i < acc.pixelSums.length; i++) {
      acc.pixelSums[i] = stats.getPixelSums().get(i);
    }
    for (int i = 0; i < 3; i++) {
      acc.channelSums[i] = stats.getChannelSums().get(i);
    }
    for (int i = 0; i < 6; i++) {
      acc.channelProducts[i] = stats.getChannelProducts().get(i);
    }
    return acc;
  }

  /**
   * Fixed-width binary form for the state store and its changelog (written at every commit):
   * header, then the sums bulk-copied. Pixel sums are written as 4-byte ints while they cannot
   * exceed an int (count × 255 ≤ 2³¹−1, i.e. up to 8.4 M images), halving the changelog records.
   */
  public byte[] toBytes() {
    boolean narrow = count * 255 <= Integer.MAX_VALUE;
    int sumBytes = narrow ? 4 : 8;
    ByteBuffer buf = ByteBuffer.allocate(4 + 4 + 1 + 8 * (1 + 3 + 6) + sumBytes * pixelSums.length);
    buf.putInt(width).putInt(height).put((byte) sumBytes).putLong(count);
    for (long v : channelSums) {
      buf.putLong(v);
    }
    for (long v : channelProducts) {
      buf.putLong(v);
    }
    if (narrow) {
      int[] ints = new int[pixelSums.length];
      for (int i = 0; i < ints.length; i++) {
        ints[i] = (int) pixelSums[i];
      }
      buf.asIntBuffer().put(ints);
    } else {
      buf.asLongBuffer().put(pixelSums);
    }
    return buf.array();
  }

  public static StatsAccumulator fromBytes(byte[] bytes) {
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    StatsAccumulator acc = new StatsAccumulator(buf.getInt(), buf.getInt());
    int sumBytes = buf.get();
    acc.count = buf.getLong();
    for (int i = 0; i < 3; i++) {
      acc.channelSums[i] = buf.getLong();
    }
    for (int i = 0; i < 6; i++) {
      acc.channelProducts[i] = buf.getLong();
    }
    if (sumBytes == 4) {
      int[] ints = new int[acc.pixelSums.length];
      buf.asIntBuffer().get(ints);
      for (int i = 0; i < ints.length; i++) {
        acc.pixelSums[i] = ints[i];
      }
    } else {
      buf.asLongBuffer().get(acc.pixelSums);
    }
    return acc;
  }

  private static List<Long> asList(long[] values) {
    List<Long> list = new ArrayList<>(values.length);
    for (long v : values) {
      list.add(v);
    }
    return list;
  }
}
