package org.alexkafka.augment.crop;

/**
 * Cuts a crop out of a row-major interleaved RGB image, mirroring it on the way if asked: one pass,
 * one output buffer, no intermediate copies. Pure function of its inputs.
 */
public final class Cropper {

  private static final int CHANNELS = 3;

  private Cropper() {}

  /**
   * @param src       RGB bytes of a {@code imageSize}×{@code imageSize} image, starting at {@code srcOffset}
   * @param imageSize side of the source image
   * @param window    the crop; must fit inside the image
   * @return {@code size*size*3} bytes of the crop (mirrored if the window says so)
   */
  public static byte[] crop(byte[] src, int srcOffset, int imageSize, CropWindow window) {
    if (!window.fitsIn(imageSize)) {
      throw new IllegalArgumentException(window + " does not fit in a " + imageSize + "x" + imageSize + " image");
    }
    if (src.length - srcOffset < imageSize * imageSize * CHANNELS) {
      throw new IllegalArgumentException("source holds " + (src.length - srcOffset) + " bytes, a "
          + imageSize + "x" + imageSize + " RGB image needs " + imageSize * imageSize * CHANNELS);
    }
    int size = window.size();
    int rowBytes = size * CHANNELS;
    byte[] out = new byte[size * rowBytes];
    for (int row = 0; row < size; row++) {
      int srcRow = srcOffset + ((window.y() + row) * imageSize + window.x()) * CHANNELS;
      int dstRow = row * rowBytes;
      if (!window.mirrored()) {
        System.arraycopy(src, srcRow, out, dstRow, rowBytes);
      } else {
        int s = srcRow + rowBytes - CHANNELS; // last pixel of the source row goes first
        for (int d = dstRow; d < dstRow + rowBytes; d += CHANNELS, s -= CHANNELS) {
          out[d] = src[s];
          out[d + 1] = src[s + 1];
          out[d + 2] = src[s + 2];
        }
      }
    }
    return out;
  }

  public static byte[] crop(byte[] src, int imageSize, CropWindow window) {
    return crop(src, 0, imageSize, window);
  }
}
