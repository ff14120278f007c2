package org.alexkafka.pipeline.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.alexkafka.pipeline.demo.SyntheticImageSet.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyntheticImageSetTest {

  @Test
  void writesDecodableJpegsInTheImageNetLayout(@TempDir Path root) throws Exception {
    int written = SyntheticImageSet.write(root, 3, 2, 64, 1);

    assertThat(written).isEqualTo(Shape.values().length * 5);
    for (Shape shape : Shape.values()) {
      try (Stream<Path> train = Files.list(root.resolve("train").resolve(shape.classId()));
           Stream<Path> val = Files.list(root.resolve("val").resolve(shape.classId()))) {
        assertThat(train).hasSize(3).allSatisfy(p -> assertThat(ImageIO.read(p.toFile()).getHeight()).isEqualTo(64));
        assertThat(val).hasSize(2);
      }
    }
  }

  @Test
  void classesDifferInTheHueOfTheirShape() {
    // Only the shape is strongly saturated (background 0.15, clutter 0.3, speckle grey).
    java.util.Random random = new java.util.Random(3);
    for (int i = 0; i < 5; i++) {
      for (Shape shape : Shape.values()) {
        double hue = shapeHue(SyntheticImageSet.draw(shape, 96, random));
        double distance = Math.abs(hue - shape.hue);
        assertThat(Math.min(distance, 1 - distance)).as(shape.name()).isLessThan(0.05);
      }
    }
  }

  /** Circular mean hue of the pixels with saturation above 0.6. */
  private static double shapeHue(BufferedImage image) {
    double sin = 0;
    double cos = 0;
    for (int y = 0; y < image.getHeight(); y++) {
      for (int x = 0; x < image.getWidth(); x++) {
        Color c = new Color(image.getRGB(x, y));
        float[] hsb = Color.RGBtoHSB(c.getRed(), c.getGreen(), c.getBlue(), null);
        if (hsb[1] > 0.6f && hsb[2] > 0.5f) {
          sin += Math.sin(2 * Math.PI * hsb[0]);
          cos += Math.cos(2 * Math.PI * hsb[0]);
        }
      }
    }
    double hue = Math.atan2(sin, cos) / (2 * Math.PI);
    return hue < 0 ? hue + 1 : hue;
  }
}
