package org.alexkafka.ingest.decode;

import org.alexkafka.ingest.resize.Pixels;
import org.alexkafka.ingest.resize.ResampleFilter;
import org.alexkafka.ingest.resize.Resampler;

/**
 * File bytes to the paper's input: decode, upright, shorter side to {@code size}, central crop,
 * colour profile (after the resize: 30x fewer pixels to convert), channels to R,G,B. Thread-safe.
 */
public final class ImagePreparer {

  private final ImageDecoder decoder;
  private final int size;
  private final ResampleFilter filter;

  public ImagePreparer(ImageDecoder decoder, int size, ResampleFilter filter) {
    if (size < 1) {
      throw new IllegalArgumentException("image size must be positive: " + size);
    }
    this.decoder = decoder;
    this.size = size;
    this.filter = filter;
  }

  public ImagePreparer(long maxPixels, int size) {
    this(new ImageDecoder(maxPixels), size, ResampleFilter.TRIANGLE);
  }

  public int size() {
    return size;
  }

  public PreparedImage prepare(byte[] bytes) throws DecodeException {
    DecodedImage decoded = decoder.decodeIntoReusedBuffer(bytes); // consumed before the next decode
    Pixels src = decoded.pixels();
    Pixels cropped = Resampler.shorterSideThenCentreCrop(src, size, filter);
    byte[] rgb = switch (decoded.order()) {
      case GRAY -> grayToRgb(cropped.data());
      case BGR -> swapRedBlue(cropped.data());
      case RGB -> cropped.data();
    };
    if (decoded.profile() != null) {
      rgb = ColourProfiles.toSrgb(new Pixels(size, size, 3, rgb), decoded.profile()).data();
    }
    return new PreparedImage(size, rgb, src.width(), src.height(), decoded.format());
  }

  private static byte[] grayToRgb(byte[] gray) {
    byte[] rgb = new byte[gray.length * 3];
    for (int i = 0, o = 0; i < gray.length; i++, o += 3) {
      rgb[o] = gray[i];
      rgb[o + 1] = gray[i];
      rgb[o + 2] = gray[i];
    }
    return rgb;
  }

  private static byte[] swapRedBlue(byte[] bgr) {
    for (int i = 0; i < bgr.length; i += 3) {
      byte b = bgr[i];
      bgr[i] = bgr[i + 2];
      bgr[i + 2] = b;
    }
    return bgr;
  }
}
