package org.alexkafka.trainer.engine;

/**
 * A batch in the form every engine takes: float32 features in NCHW order (sample, channel, row,
 * column), mean already subtracted, and one class index per sample.
 */
public record Batch(int size, int channels, int height, int width, float[] features, int[] labels) {

  public Batch {
    if ((long) size * channels * height * width != features.length) {
      throw new IllegalArgumentException("features hold " + features.length + " floats, not " + size + "x" + channels + "x"
          + height + "x" + width);
    }
    if (labels.length != size) {
      throw new IllegalArgumentException(labels.length + " labels for " + size + " samples");
    }
  }

  /** The shape of the features, NCHW. */
  public long[] shape() {
    return new long[] {size, channels, height, width};
  }
}
