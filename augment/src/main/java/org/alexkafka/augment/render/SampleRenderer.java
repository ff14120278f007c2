package org.alexkafka.augment.render;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.util.List;
import org.alexkafka.augment.lighting.PcaLighting;
import org.alexkafka.schemas.Sample;

/** Turns samples into pictures a person can look at: the crop with its lighting shift applied. */
public final class SampleRenderer {

  private SampleRenderer() {}

  /** The sample as the trainer sees it (8-bit pixels + the RGB shift), rounded and clamped to 0..255. */
  public static BufferedImage lit(Sample sample) {
    float[] shift = {sample.getLighting().get(0), sample.getLighting().get(1), sample.getLighting().get(2)};
    return toImage(pixels(sample), sample.getCropSize(), shift);
  }

  /** The stored 8-bit pixels alone. */
  public static BufferedImage unlit(Sample sample) {
    return toImage(pixels(sample), sample.getCropSize(), new float[3]);
  }

  static BufferedImage toImage(byte[] pixels, int size, float[] shift) {
    float[] values = PcaLighting.apply(pixels, shift);
    BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
    for (int p = 0; p < size * size; p++) {
      int r = clamp(values[3 * p]), g = clamp(values[3 * p + 1]), b = clamp(values[3 * p + 2]);
      img.setRGB(p % size, p / size, (r << 16) | (g << 8) | b);
    }
    return img;
  }

  static int clamp(float v) {
    return Math.max(0, Math.min(255, Math.round(v)));
  }

  /** Tiles upscaled by {@code scale}, {@code columns} per row, on a dark background with a 4 px gap. */
  public static BufferedImage contactSheet(List<BufferedImage> tiles, int columns, int scale) {
    int tile = tiles.get(0).getWidth() * scale;
    int gap = 4;
    int rows = (tiles.size() + columns - 1) / columns;
    BufferedImage sheet = new BufferedImage(columns * (tile + gap) + gap, rows * (tile + gap) + gap, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = sheet.createGraphics();
    g.setColor(new Color(32, 32, 32));
    g.fillRect(0, 0, sheet.getWidth(), sheet.getHeight());
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
    for (int i = 0; i < tiles.size(); i++) {
      g.drawImage(tiles.get(i), gap + (i % columns) * (tile + gap), gap + (i / columns) * (tile + gap), tile, tile, null);
    }
    g.dispose();
    return sheet;
  }

  private static byte[] pixels(Sample sample) {
    ByteBuffer b = sample.getPixels().duplicate();
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }
}
