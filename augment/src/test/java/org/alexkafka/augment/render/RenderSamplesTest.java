package org.alexkafka.augment.render;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.alexkafka.augment.testing.TestImages;
import org.alexkafka.schemas.Sample;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RenderSamplesTest {

  private static Sample sample(String id, int variant, byte[] pixels, int size, float r, float g, float b) {
    return Sample.newBuilder().setImageId(id).setClassIndex(0).setLabel("n1").setImageSize(size + 8).setCropSize(size)
        .setCropX(0).setCropY(0).setMirrored(false).setLighting(List.of(r, g, b)).setVariant(variant).setViews(1)
        .setPixels(ByteBuffer.wrap(pixels)).build();
  }

  @Test
  void writesOnePngPerSampleWithTheLightingAppliedAndAContactSheet(@TempDir Path dir) throws Exception {
    int size = 16;
    byte[] px = TestImages.randomPixels(size, 4);
    px[0] = (byte) 250; // near the top: a +10.4 shift saturates at 255
    px[1] = 3;          // near the bottom: a -7.6 shift clamps at 0
    Sample shifted = sample("abcdef0123456789", 3, px, size, 10.4f, -7.6f, 0.5f);
    Sample plain = sample("other", 0, px, size, 0f, 0f, 0f);

    List<Path> files = RenderSamples.write(List.of(shifted, plain), dir, 3);

    assertThat(files).extracting(p -> p.getFileName().toString())
        .containsExactly("000-abcdef012345-v3.png", "001-other-v0.png", "contact-sheet.png");
    BufferedImage lit = ImageIO.read(files.get(0).toFile());
    BufferedImage unlit = ImageIO.read(files.get(1).toFile());
    assertThat(lit.getWidth()).isEqualTo(size);
    assertThat(lit.getHeight()).isEqualTo(size);
    for (int p = 0; p < size * size; p++) {
      int x = p % size, y = p / size;
      int rgb = lit.getRGB(x, y), base = unlit.getRGB(x, y);
      assertThat((base >> 16) & 0xff).isEqualTo(px[3 * p] & 0xff);
      assertThat((rgb >> 16) & 0xff).isEqualTo(Math.min(255, Math.round((px[3 * p] & 0xff) + 10.4f)));
      assertThat((rgb >> 8) & 0xff).isEqualTo(Math.max(0, Math.round((px[3 * p + 1] & 0xff) - 7.6f)));
      assertThat(rgb & 0xff).isEqualTo(Math.min(255, Math.round((px[3 * p + 2] & 0xff) + 0.5f)));
    }
    assertThat((lit.getRGB(0, 0) >> 16) & 0xff).isEqualTo(255);
    assertThat((lit.getRGB(0, 0) >> 8) & 0xff).isEqualTo(0);
    BufferedImage sheet = ImageIO.read(files.get(2).toFile());
    // 4 tiles (unlit + lit of each sample) in one row of 8 columns, 3x upscaled, 4 px gaps.
    assertThat(sheet.getWidth()).isEqualTo(8 * (size * 3 + 4) + 4);
    assertThat(sheet.getHeight()).isEqualTo(size * 3 + 4 + 4);
    assertThat(sheet.getRGB(4 + size * 3 + 4, 4)).isEqualTo(lit.getRGB(0, 0));
  }
}
