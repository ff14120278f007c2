package org.alexkafka.ingest.decode;

import com.twelvemonkeys.imageio.stream.ByteArrayImageInputStream;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.ArrayList;
import javax.imageio.spi.IIORegistry;
import javax.imageio.spi.ImageReaderSpi;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.stream.ImageInputStream;
import org.alexkafka.schemas.RejectReason;
import org.alexkafka.ingest.resize.Pixels;

/**
 * Bytes in, an upright 8-bit picture out, or a {@link DecodeException} with the reason. The format
 * comes from the content (ImageIO asks each installed reader whether it recognises the bytes), never
 * from the file name. Thread-safe: every call uses its own reader.
 */
public final class ImageDecoder {

  /** Default pixel limit: 50 megapixels (e.g. 8660 x 5773), ~150 MB of RGB once decoded. */
  public static final long DEFAULT_MAX_PIXELS = 50_000_000L;

  static {
    ImageIO.setUseCache(false); // never spill to temp files: everything is in memory already
    ImageIO.scanForPlugins();   // the TwelveMonkeys readers, whatever class loader loaded us
  }

  private final long maxPixels;

  public ImageDecoder(long maxPixels) {
    if (maxPixels < 1) {
      throw new IllegalArgumentException("maxPixels must be positive: " + maxPixels);
    }
    this.maxPixels = maxPixels;
  }

  public ImageDecoder() {
    this(DEFAULT_MAX_PIXELS);
  }

  public long maxPixels() {
    return maxPixels;
  }

  public DecodedImage decode(byte[] bytes) throws DecodeException {
    return decode(bytes, false);
  }

  /**
   * As {@link #decode(byte[])}, but the pixels may live in a buffer this thread reuses for the next
   * picture of the same size: for callers that are done with the result before decoding again.
   * Saves allocating (and collecting) a fresh full-size raster per photo.
   */
  DecodedImage decodeIntoReusedBuffer(byte[] bytes) throws DecodeException {
    return decode(bytes, true);
  }

  private DecodedImage decode(byte[] bytes, boolean reuse) throws DecodeException {
    if (bytes.length == 0) {
      throw new DecodeException(RejectReason.EMPTY, "empty file (0 bytes)");
    }
    try {
      return decodeChecked(bytes, reuse);
    } catch (DecodeException e) {
      throw e;
    } catch (IOException e) {
      throw new DecodeException(RejectReason.CORRUPT, "cannot decode: " + e.getMessage(), e);
    } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
      // Plugins throw IndexOutOfBounds, NegativeArraySize, IllegalState... on hostile input.
      throw new DecodeException(RejectReason.CORRUPT, "decoder failed: " + e, e);
    }
  }

  private DecodedImage decodeChecked(byte[] bytes, boolean reuse) throws IOException, DecodeException {
    try (ImageInputStream in = new ByteArrayImageInputStream(bytes)) {
      ImageReaderSpi spi = readerFor(in);
      if (spi == null) {
        throw new DecodeException(RejectReason.NOT_AN_IMAGE,
            "not a recognised image format (first bytes: " + firstBytes(bytes) + ")");
      }
      // A fresh reader per picture: reusing readers per thread measured no faster (decode is
      // dominated by libjpeg and the raster copy), and a reader that choked on hostile input is
      // better thrown away.
      ImageReader reader = spi.createReaderInstance();
      try {
        reader.setInput(in, true, true);
        String format = reader.getFormatName().toLowerCase(Locale.ROOT);
        long width = reader.getWidth(0);
        long height = reader.getHeight(0);
        if (width < 1 || height < 1) {
          throw new DecodeException(RejectReason.CORRUPT, "header claims " + width + "x" + height + " pixels");
        }
        if (width * height > maxPixels) {
          throw new DecodeException(RejectReason.TOO_LARGE, "header claims " + width + "x" + height + " = "
              + width * height + " pixels, over the limit of " + maxPixels + " (--max-pixels)");
        }
        List<String> fatal = new ArrayList<>();
        reader.addIIOReadWarningListener((source, warning) -> {
          if (isTruncation(warning)) {
            fatal.add(warning);
          }
        });
        ImageReadParam param = readParam(reader);
        if (reuse && param.getDestinationType() == null) {
          reuseDestination(reader, param, (int) width, (int) height);
        }
        BufferedImage image = reader.read(0, param);
        if (!fatal.isEmpty()) {
          // The JPEG decoder only warns and fills the missing rows with grey.
          throw new DecodeException(RejectReason.TRUNCATED, "truncated " + format + ": " + String.join("; ", fatal));
        }
        DecodedImage decoded = RasterExtraction.extract(image, format);
        if (format.equals("jpeg")) {
          int orientation = ExifOrientation.ofJpeg(bytes);
          if (orientation != 1) {
            Pixels upright = ExifOrientation.apply(decoded.pixels(), orientation);
            decoded = new DecodedImage(upright, decoded.order(), decoded.profile(), format);
          }
        }
        return decoded;
      } finally {
        reader.dispose();
      }
    }
  }

  /** Recently used 3-byte BGR destinations of this thread, by size (photos come in few sizes). */
  private static final ThreadLocal<BufferedImage[]> DESTINATIONS = ThreadLocal.withInitial(() -> new BufferedImage[4]);
  private static final long MAX_REUSED_PIXELS = 4_000_000L;

  private static void reuseDestination(ImageReader reader, ImageReadParam param, int width, int height) throws IOException {
    if ((long) width * height > MAX_REUSED_PIXELS) {
      return;
    }
    Iterator<ImageTypeSpecifier> types = reader.getImageTypes(0);
    if (!types.hasNext() || types.next().getBufferedImageType() != BufferedImage.TYPE_3BYTE_BGR) {
      return;
    }
    BufferedImage[] cache = DESTINATIONS.get();
    for (BufferedImage b : cache) {
      if (b != null && b.getWidth() == width && b.getHeight() == height) {
        param.setDestination(b);
        return;
      }
    }
    BufferedImage fresh = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
    System.arraycopy(cache, 0, cache, 1, cache.length - 1); // most recent first, oldest dropped
    cache[0] = fresh;
    param.setDestination(fresh);
  }

  /** The first installed reader that recognises the content, as ImageIO.getImageReaders picks it. */
  private static ImageReaderSpi readerFor(ImageInputStream in) {
    Iterator<ImageReaderSpi> spis = IIORegistry.getDefaultInstance().getServiceProviders(ImageReaderSpi.class, spi -> {
      try {
        in.mark();
        try {
          return ((ImageReaderSpi) spi).canDecodeInput(in);
        } finally {
          in.reset();
        }
      } catch (IOException e) {
        return false;
      }
    }, true);
    return spis.hasNext() ? spis.next() : null;
  }

  /**
   * Asks for the raw samples of an RGB picture with a non-sRGB profile (the reader would otherwise
   * convert every pixel of the full-size picture): the profile is applied after the resize.
   */
  private static ImageReadParam readParam(ImageReader reader) throws IOException {
    ImageReadParam param = reader.getDefaultReadParam();
    Iterator<ImageTypeSpecifier> types = reader.getImageTypes(0);
    while (types.hasNext()) {
      ImageTypeSpecifier type = types.next();
      ColorSpace cs = type.getColorModel().getColorSpace();
      if (cs.getType() == ColorSpace.TYPE_RGB && !cs.isCS_sRGB() && type.getNumBands() == 3
          && type.getSampleModel().getDataType() == java.awt.image.DataBuffer.TYPE_BYTE) {
        param.setDestinationType(type);
        break;
      }
    }
    return param;
  }

  static boolean isTruncation(String warning) {
    String w = warning.toLowerCase(Locale.ROOT);
    return w.contains("premature end") || w.contains("missing eoi") || w.contains("truncated");
  }

  private static String firstBytes(byte[] bytes) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < Math.min(8, bytes.length); i++) {
      sb.append(String.format("%02x", bytes[i] & 0xFF));
    }
    return sb.toString();
  }
}
