package org.alexkafka.ingest.decode;

import com.twelvemonkeys.imageio.metadata.Directory;
import com.twelvemonkeys.imageio.metadata.Entry;
import com.twelvemonkeys.imageio.metadata.jpeg.JPEG;
import com.twelvemonkeys.imageio.metadata.jpeg.JPEGSegment;
import com.twelvemonkeys.imageio.metadata.jpeg.JPEGSegmentUtil;
import com.twelvemonkeys.imageio.metadata.tiff.TIFF;
import com.twelvemonkeys.imageio.metadata.tiff.TIFFReader;
import com.twelvemonkeys.imageio.stream.ByteArrayImageInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import javax.imageio.stream.ImageInputStream;
import org.alexkafka.ingest.resize.Pixels;

/**
 * EXIF orientation (TIFF tag 274, values 1..8): reading it from a JPEG's APP1 segment, and turning
 * the stored raster upright. Cameras store the sensor's rows and leave the rotation to the viewer.
 */
public final class ExifOrientation {

  private ExifOrientation() {}

  /** The orientation of a JPEG file, 1 (upright) when absent or unreadable: a bad tag is no reason to reject. */
  public static int ofJpeg(byte[] bytes) {
    try (ImageInputStream in = new ByteArrayImageInputStream(bytes)) {
      List<JPEGSegment> exif = JPEGSegmentUtil.readSegments(in, JPEG.APP1, "Exif");
      if (exif.isEmpty()) {
        return 1;
      }
      try (InputStream data = exif.get(0).data()) {
        byte[] tiff = data.readAllBytes();
        // The segment data follows the "Exif\0" identifier; one pad byte precedes the TIFF header.
        int start = tiff.length > 0 && tiff[0] == 0 ? 1 : 0;
        Directory ifd0 = new TIFFReader().read(new ByteArrayImageInputStream(tiff, start, tiff.length - start));
        Entry entry = ifd0.getEntryById(TIFF.TAG_ORIENTATION);
        if (entry == null || !(entry.getValue() instanceof Number n)) {
          return 1;
        }
        int value = n.intValue();
        return value >= 1 && value <= 8 ? value : 1;
      }
    } catch (IOException | RuntimeException e) {
      return 1;
    }
  }

  /** The raster as a viewer shows it for the given EXIF orientation. Pure. */
  public static Pixels apply(Pixels src, int orientation) {
    if (orientation <= 1 || orientation > 8) {
      return src;
    }
    int w = src.width();
    int h = src.height();
    int c = src.channels();
    boolean swap = orientation >= 5;
    int outW = swap ? h : w;
    int outH = swap ? w : h;
    byte[] in = src.data();
    byte[] out = new byte[in.length];
    for (int y = 0; y < outH; y++) {
      for (int x = 0; x < outW; x++) {
        int sx;
        int sy;
        switch (orientation) {
          case 2 -> { sx = w - 1 - x; sy = y; }              // mirrored
          case 3 -> { sx = w - 1 - x; sy = h - 1 - y; }      // rotated 180
          case 4 -> { sx = x; sy = h - 1 - y; }              // flipped vertically
          case 5 -> { sx = y; sy = x; }                      // transposed
          case 6 -> { sx = y; sy = h - 1 - x; }              // stored rotated 90 CCW: turn 90 CW
          case 7 -> { sx = w - 1 - y; sy = h - 1 - x; }      // transverse
          default -> { sx = w - 1 - y; sy = x; }             // 8: stored rotated 90 CW: turn 90 CCW
        }
        System.arraycopy(in, (sy * w + sx) * c, out, (y * outW + x) * c, c);
      }
    }
    return new Pixels(outW, outH, c, out);
  }
}
