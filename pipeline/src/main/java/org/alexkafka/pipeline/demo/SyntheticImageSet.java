package org.alexkafka.pipeline.demo;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Polygon;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;

/**
 * A small image data set the demo can always reach: real JPEG files of a few visually distinct
 * classes (a shape and a hue each, with random size, position, tint, clutter and noise), written
 * in the ImageNet folder layout ({@code train/<class>/*.jpg}, {@code val/<class>/*.jpg}) so they
 * go through the same decode path as any photo.
 */
public final class SyntheticImageSet {

  /** The classes: a shape and a base hue each, so a small network learns them in minutes. */
  public enum Shape {
    DISC("synthetic-red-disc", 0.0f),
    SQUARE("synthetic-blue-square", 0.62f),
    TRIANGLE("synthetic-green-triangle", 0.33f),
    STRIPES("synthetic-yellow-stripes", 0.15f);

    final String classId;
    final float hue;

    Shape(String classId, float hue) {
      this.classId = classId;
      this.hue = hue;
    }

    public String classId() {
      return classId;
    }
  }

  private SyntheticImageSet() {}

  /** Writes {@code trainPerClass} + {@code valPerClass} JPEGs per class under {@code root}; returns the file count. */
  public static int write(Path root, int trainPerClass, int valPerClass, int size, long seed) {
    Random random = new Random(seed);
    int written = 0;
    for (Shape shape : Shape.values()) {
      for (var split : List.of("train", "val")) {
        int n = split.equals("train") ? trainPerClass : valPerClass;
        Path dir = root.resolve(split).resolve(shape.classId);
        try {
          Files.createDirectories(dir);
          for (int i = 0; i < n; i++) {
            ImageIO.write(draw(shape, size, random), "jpg", dir.resolve(shape.name().toLowerCase() + "-" + i + ".jpg").toFile());
            written++;
          }
        } catch (IOException e) {
          throw new UncheckedIOException("cannot write the synthetic data set under " + root, e);
        }
      }
    }
    return written;
  }

  static BufferedImage draw(Shape shape, int size, Random random) {
    // Non-square on purpose, so ingest's rescale + centre crop does real work.
    int width = size + random.nextInt(size / 2);
    int height = size;
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setColor(Color.getHSBColor(random.nextFloat(), 0.15f, 0.35f + 0.5f * random.nextFloat()));
    g.fillRect(0, 0, width, height);
    for (int i = 0; i < 6; i++) { // clutter: faint lines of any colour
      g.setColor(Color.getHSBColor(random.nextFloat(), 0.3f, random.nextFloat()));
      g.setStroke(new BasicStroke(1 + random.nextInt(3)));
      g.drawLine(random.nextInt(width), random.nextInt(height), random.nextInt(width), random.nextInt(height));
    }
    float hue = shape.hue + (random.nextFloat() - 0.5f) * 0.06f;
    g.setColor(Color.getHSBColor(hue, 0.65f + 0.35f * random.nextFloat(), 0.6f + 0.4f * random.nextFloat()));
    int extent = height / 3 + random.nextInt(height / 3);
    int x = width / 2 - extent / 2 + random.nextInt(height / 4) - height / 8;
    int y = height / 2 - extent / 2 + random.nextInt(height / 4) - height / 8;
    switch (shape) {
      case DISC -> g.fillOval(x, y, extent, extent);
      case SQUARE -> g.fillRect(x, y, extent, extent);
      case TRIANGLE -> g.fillPolygon(new Polygon(new int[] {x, x + extent, x + extent / 2}, new int[] {y + extent, y + extent, y}, 3));
      case STRIPES -> {
        int stripe = Math.max(2, extent / 6);
        for (int sx = x; sx < x + extent; sx += 2 * stripe) {
          g.fillRect(sx, y, stripe, extent);
        }
      }
    }
    g.dispose();
    for (int i = 0; i < width * height / 50; i++) { // sensor-like speckle
      int px = random.nextInt(width);
      int py = random.nextInt(height);
      int v = random.nextInt(256);
      image.setRGB(px, py, (v << 16) | (v << 8) | v);
    }
    return image;
  }
}
