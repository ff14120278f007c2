package org.alexkafka.trainer.data;

import org.alexkafka.schemas.Stats;

/**
 * The per-pixel mean of the training images (height x width x 3, row-major interleaved RGB), in
 * pixel units: the exact sums of the {@code stats} topic divided by its count.
 */
public record MeanImage(int width, int height, float[] pixels) {

  public MeanImage {
    if (pixels.length != width * height * 3) {
      throw new IllegalArgumentException("mean image of " + width + "x" + height + " needs " + width * height * 3
          + " values, got " + pixels.length);
    }
  }

  public static MeanImage of(Stats stats) {
    if (stats.getCount() <= 0) {
      throw new IllegalArgumentException("stats record counts no images: no mean image yet");
    }
    int expected = stats.getWidth() * stats.getHeight() * 3;
    if (stats.getPixelSums().size() != expected) {
      throw new IllegalArgumentException("stats record has " + stats.getPixelSums().size() + " pixel sums, expected "
          + expected + " for " + stats.getWidth() + "x" + stats.getHeight());
    }
    float[] mean = new float[expected];
    double count = stats.getCount();
    for (int i = 0; i < expected; i++) {
      mean[i] = (float) (stats.getPixelSums().get(i) / count);
    }
    return new MeanImage(stats.getWidth(), stats.getHeight(), mean);
  }
}
