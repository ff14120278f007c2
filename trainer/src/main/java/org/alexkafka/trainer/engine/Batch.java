package org.alexkafka.trainer.engine;

/**
 * A batch in one of the two forms engines take, with one class index per sample: float32 features
 * in NCHW order (sample, channel, row, column), mean already subtracted; or the 8-bit crops with
 * what converts them ({@link PixelCrops}), for an engine that converts on its own device ({@link
 * Engine#convertsPixels()}). Exactly one of {@code features} and {@code pixels} is set; {@link
 * #toFeatures()} gives the float form of either.
 */
public record Batch(int size, int channels, int height, int width, float[] features, PixelCrops pixels, int[] labels) {

  public Batch {
    if ((features == null) == (pixels == null)) {
      throw new IllegalArgumentException("a batch holds either float features or 8-bit crops");
    }
    if (features != null && (long) size * channels * height * width != features.length) {
      throw new IllegalArgumentException("features hold " + features.length + " floats, not " + size + "x" + channels + "x"
          + height + "x" + width);
    }
    if (pixels != null && (channels != 3 || height != width || pixels.size() != size
        || pixels.pixels().length != (long) size * 3 * height * width)) {
      throw new IllegalArgumentException("8-bit crops are " + size + " RGB squares, not " + size + "x" + channels + "x" + height
          + "x" + width);
    }
    if (labels.length != size) {
      throw new IllegalArgumentException(labels.length + " labels for " + size + " samples");
    }
  }

  /** A batch of float features. */
  public Batch(int size, int channels, int height, int width, float[] features, int[] labels) {
    this(size, channels, height, width, features, null, labels);
  }

  /** A batch of 8-bit crops, {@code crop} x {@code crop}. */
  public static Batch ofPixels(int crop, PixelCrops pixels, int[] labels) {
    return new Batch(pixels.size(), 3, crop, crop, null, pixels, labels);
  }

  /** The float features: the array itself, or the 8-bit crops converted here (a new array, on the caller's thread). */
  public float[] toFeatures() {
    return features != null ? features : pixels.features(height);
  }

  /** The shape of the features, NCHW. */
  public long[] shape() {
    return new long[] {size, channels, height, width};
  }
}
