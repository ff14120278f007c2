package org.alexkafka.augment.photos;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.alexkafka.schemas.Image;
import org.alexkafka.schemas.Split;

/**
 * Real photos as {@code Image} records for the bench and the tests: plain javax.imageio decoding,
 * shorter side scaled to {@code size}, central square. Deliberately simple and independent of the
 * ingest module (which is the real decoder); only baseline JPEGs that javax.imageio reads are used.
 */
public final class PhotoImages {

  private PhotoImages() {}

  /** {@code testdata/} of the repository: walks up from the working directory. */
  public static Path findSharedData() {
    Path dir = Path.of("").toAbsolutePath();
    for (Path p = dir; p != null; p = p.getParent()) {
      Path candidate = p.resolve("testdata");
      if (Files.isDirectory(candidate)) {
        return candidate;
      }
    }
    throw new IllegalStateException("no testdata folder above " + dir);
  }

  /** A photo as one labelled image: its class is the name of the folder it lies in. */
  public record Photo(Path file, String classId) {}

  /** Up to {@code perClass} photos of each class folder under {@code root} (sorted, so stable). */
  public static List<Photo> photos(Path root, int perClass) {
    List<Photo> out = new ArrayList<>();
    try (Stream<Path> classes = Files.list(root)) {
      for (Path classDir : classes.filter(Files::isDirectory).sorted().toList()) {
        try (Stream<Path> files = Files.list(classDir)) {
          files.filter(f -> f.getFileName().toString().toUpperCase().endsWith(".JPEG")).sorted().limit(perClass)
              .forEach(f -> out.add(new Photo(f, classDir.getFileName().toString())));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  /** Decodes, scales the shorter side to {@code size}, takes the centre: {@code size*size*3} RGB bytes. */
  public static byte[] rgb(Path file, int size) {
    try {
      BufferedImage src = ImageIO.read(file.toFile());
      if (src == null) {
        throw new IllegalArgumentException("javax.imageio cannot read " + file);
      }
      double scale = (double) size / Math.min(src.getWidth(), src.getHeight());
      int w = Math.max(size, (int) Math.round(src.getWidth() * scale));
      int h = Math.max(size, (int) Math.round(src.getHeight() * scale));
      BufferedImage square = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
      Graphics2D g = square.createGraphics();
      g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
      g.drawImage(src, -(w - size) / 2, -(h - size) / 2, w, h, null);
      g.dispose();
      byte[] out = new byte[size * size * 3];
      int[] argb = square.getRGB(0, 0, size, size, null, 0, size);
      for (int i = 0; i < argb.length; i++) {
        out[3 * i] = (byte) (argb[i] >> 16);
        out[3 * i + 1] = (byte) (argb[i] >> 8);
        out[3 * i + 2] = (byte) argb[i];
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  public static Image image(Photo photo, Split split, int size) {
    byte[] pixels = rgb(photo.file(), size);
    return Image.newBuilder()
        .setId(sha256(photo.file()))
        .setLabel(photo.classId())
        .setSplit(split)
        .setSource(photo.file().toString())
        .setOriginalWidth(size).setOriginalHeight(size)
        .setWidth(size).setHeight(size)
        .setPixels(ByteBuffer.wrap(pixels))
        .setIngestedAt(Instant.now())
        .build();
  }

  private static String sha256(Path file) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
