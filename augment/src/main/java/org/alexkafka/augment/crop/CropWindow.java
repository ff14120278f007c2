package org.alexkafka.augment.crop;

/**
 * One square crop of a square source image: top-left corner (x, y), side {@code size}, and
 * whether the crop is mirrored horizontally.
 */
public record CropWindow(int x, int y, int size, boolean mirrored) {

  public CropWindow {
    if (x < 0 || y < 0 || size <= 0) {
      throw new IllegalArgumentException("bad crop window x=" + x + " y=" + y + " size=" + size);
    }
  }

  /** True when the window lies entirely inside a {@code imageSize}×{@code imageSize} image. */
  public boolean fitsIn(int imageSize) {
    return x + size <= imageSize && y + size <= imageSize;
  }
}
