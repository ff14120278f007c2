package org.alexkafka.ingest.decode;

import java.awt.color.ColorSpace;
import java.awt.color.ICC_ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorConvertOp;
import java.awt.image.ColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferByte;
import java.awt.image.PixelInterleavedSampleModel;
import java.awt.image.Raster;
import java.awt.image.SampleModel;
import org.alexkafka.ingest.decode.DecodedImage.ChannelOrder;
import org.alexkafka.ingest.resize.Pixels;

/**
 * Turns whatever a reader returned (3-byte BGR, ICC RGB, gray, 16-bit, palette, alpha, CMYK, ...)
 * into 8-bit interleaved samples. The common cases hand over the decoder's own array without a
 * copy; everything else goes through Java2D's colour models, which know every layout.
 */
final class RasterExtraction {

  /** Transparent areas become this colour (white, like a page), the same for every picture. */
  static final int BACKGROUND = 255;

  private static final ColorSpace SRGB = ColorSpace.getInstance(ColorSpace.CS_sRGB);

  private RasterExtraction() {}

  static DecodedImage extract(BufferedImage image, String format) {
    ColorModel cm = image.getColorModel();
    ColorSpace cs = cm.getColorSpace();
    Raster raster = image.getRaster();
    int bands = raster.getNumBands();
    if (!cm.hasAlpha() && plainBytes(raster)) {
      int[] offsets = ((PixelInterleavedSampleModel) raster.getSampleModel()).getBandOffsets();
      byte[] data = ((DataBufferByte) raster.getDataBuffer()).getData();
      Pixels pixels = new Pixels(raster.getWidth(), raster.getHeight(), bands, data);
      if (bands == 1 && cs.getType() == ColorSpace.TYPE_GRAY) {
        return new DecodedImage(pixels, ChannelOrder.GRAY, null, format);
      }
      if (bands == 3 && cs.getType() == ColorSpace.TYPE_RGB) {
        ChannelOrder order = offsets[0] == 0 && offsets[1] == 1 && offsets[2] == 2 ? ChannelOrder.RGB
            : offsets[0] == 2 && offsets[1] == 1 && offsets[2] == 0 ? ChannelOrder.BGR : null;
        if (order != null) {
          ICC_ColorSpace profile = ColourProfiles.isSrgb(cs) ? null : (ICC_ColorSpace) cs;
          return new DecodedImage(pixels, order, profile, format);
        }
      }
    }
    if (cs.getType() == ColorSpace.TYPE_GRAY && (bands == 1 || bands == 2)) {
      return gray(raster, cm, format);
    }
    return viaArgb(image, format);
  }

  /** One byte array, pixel-interleaved, no padding, no offset: usable as it is. */
  private static boolean plainBytes(Raster raster) {
    SampleModel sm = raster.getSampleModel();
    DataBuffer db = raster.getDataBuffer();
    if (!(sm instanceof PixelInterleavedSampleModel pism) || !(db instanceof DataBufferByte)
        || db.getNumBanks() != 1 || db.getOffset() != 0
        || raster.getSampleModelTranslateX() != 0 || raster.getSampleModelTranslateY() != 0) {
      return false;
    }
    int bands = raster.getNumBands();
    return pism.getPixelStride() == bands && pism.getScanlineStride() == raster.getWidth() * bands
        && db.getSize() == raster.getWidth() * raster.getHeight() * bands;
  }

  /** Gray of any depth, with or without alpha: the stored values, scaled to 8 bits. */
  private static DecodedImage gray(Raster raster, ColorModel cm, String format) {
    int w = raster.getWidth();
    int h = raster.getHeight();
    int depth = cm.getComponentSize(0);
    int max = (1 << depth) - 1;
    boolean alpha = raster.getNumBands() == 2;
    int alphaMax = alpha ? (1 << cm.getComponentSize(1)) - 1 : 1;
    byte[] out = new byte[w * h];
    int[] row = new int[w];
    int[] alphaRow = new int[w];
    for (int y = 0; y < h; y++) {
      raster.getSamples(0, y, w, 1, 0, row);
      if (alpha) {
        raster.getSamples(0, y, w, 1, 1, alphaRow);
      }
      for (int x = 0; x < w; x++) {
        int v = (row[x] * 255 + max / 2) / max;
        if (alpha) {
          v = composite(v, (alphaRow[x] * 255 + alphaMax / 2) / alphaMax);
        }
        out[y * w + x] = (byte) v;
      }
    }
    return new DecodedImage(new Pixels(w, h, 1, out), ChannelOrder.GRAY, null, format);
  }

  /**
   * Palette, 16-bit, alpha, CMYK and other colour spaces: convert to sRGB with Java2D (a whole-image
   * colour conversion first when the space is not RGB), then composite alpha on the background.
   */
  private static DecodedImage viaArgb(BufferedImage image, String format) {
    ColorSpace cs = image.getColorModel().getColorSpace();
    BufferedImage rgbImage = image;
    if (cs.getType() != ColorSpace.TYPE_RGB || !ColourProfiles.isSrgb(cs) && !(image.getColorModel() instanceof java.awt.image.IndexColorModel)) {
      BufferedImage converted = new BufferedImage(image.getWidth(), image.getHeight(),
          image.getColorModel().hasAlpha() ? BufferedImage.TYPE_INT_ARGB : BufferedImage.TYPE_INT_RGB);
      new ColorConvertOp(cs, SRGB, null).filter(image, converted);
      rgbImage = converted;
    }
    int w = image.getWidth();
    int h = image.getHeight();
    byte[] out = new byte[w * h * 3];
    int[] row = new int[w];
    for (int y = 0; y < h; y++) {
      rgbImage.getRGB(0, y, w, 1, row, 0, w);
      for (int x = 0; x < w; x++) {
        int argb = row[x];
        int a = argb >>> 24;
        int o = (y * w + x) * 3;
        out[o] = (byte) composite((argb >> 16) & 0xFF, a);
        out[o + 1] = (byte) composite((argb >> 8) & 0xFF, a);
        out[o + 2] = (byte) composite(argb & 0xFF, a);
      }
    }
    return new DecodedImage(new Pixels(w, h, 3, out), ChannelOrder.RGB, null, format);
  }

  /** Non-premultiplied value v with alpha a (0..255) over the background. */
  static int composite(int v, int a) {
    return (v * a + BACKGROUND * (255 - a) + 127) / 255;
  }
}
