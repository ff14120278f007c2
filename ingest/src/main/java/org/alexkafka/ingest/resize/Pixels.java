package org.alexkafka.ingest.resize;

/**
 * An 8-bit raster with interleaved channels, row-major, no padding: sample (x, y, c) is at
 * {@code data[(y * width + x) * channels + c]}. The channel order (RGB, BGR, gray) is the
 * caller's business: resampling treats every channel alike.
 */
public record Pixels(int width, int height, int channels, byte[] data) {

  public Pixels {
    if (width < 1 || height < 1 || channels < 1) {
      throw new IllegalArgumentException("bad raster " + width + "x" + height + "x" + channels);
    }
    if (data.length != (long) width * height * channels) {
      throw new IllegalArgumentException("raster " + width + "x" + height + "x" + channels
          + " needs " + (long) width * height * channels + " bytes, got " + data.length);
    }
  }

  public int sample(int x, int y, int c) {
    return data[(y * width + x) * channels + c] & 0xFF;
  }
}
