package org.alexkafka.ingest.decode;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import org.alexkafka.ingest.decode.DecodedImage.ChannelOrder;
import org.junit.jupiter.api.Test;

class RasterExtractionTest {

  @Test
  void alphaIsCompositedOnTheWhiteBackground() {
    BufferedImage argb = new BufferedImage(2, 1, BufferedImage.TYPE_INT_ARGB);
    argb.setRGB(0, 0, 0x00FF0000); // fully transparent red -> background
    argb.setRGB(1, 0, 0x80000000 | 0x0000FF); // half-transparent blue (alpha 128)
    DecodedImage d = RasterExtraction.extract(argb, "png");
    assertThat(d.order()).isEqualTo(ChannelOrder.RGB);
    assertThat(d.profile()).isNull();
    byte[] px = d.pixels().data();
    assertThat(new int[] {px[0] & 0xFF, px[1] & 0xFF, px[2] & 0xFF}).containsExactly(255, 255, 255);
    // 0 * 128/255 + 255 * 127/255 = 127 for red and green; blue stays 255
    assertThat(new int[] {px[3] & 0xFF, px[4] & 0xFF, px[5] & 0xFF}).containsExactly(127, 127, 255);
  }

  @Test
  void palettesAreLookedUpAndThreeByteBgrIsUsedWithoutACopy() {
    byte[] r = {10, 20};
    byte[] g = {30, 40};
    byte[] b = {50, 60};
    BufferedImage indexed = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_INDEXED, new IndexColorModel(1, 2, r, g, b));
    indexed.getRaster().setSample(1, 0, 0, 1);
    byte[] px = RasterExtraction.extract(indexed, "gif").pixels().data();
    assertThat(px).containsExactly(10, 30, 50, 20, 40, 60);

    BufferedImage bgr = new BufferedImage(3, 2, BufferedImage.TYPE_3BYTE_BGR);
    bgr.setRGB(0, 0, 0x112233);
    DecodedImage d = RasterExtraction.extract(bgr, "jpeg");
    assertThat(d.order()).isEqualTo(ChannelOrder.BGR);
    assertThat(d.pixels().data()).isSameAs(((java.awt.image.DataBufferByte) bgr.getRaster().getDataBuffer()).getData());
    assertThat(d.pixels().data()[0]).isEqualTo((byte) 0x33);
  }

  @Test
  void sixteenBitGrayIsScaledToEightBits() {
    BufferedImage gray16 = new BufferedImage(2, 1, BufferedImage.TYPE_USHORT_GRAY);
    WritableRaster raster = gray16.getRaster();
    raster.setSample(0, 0, 0, 65535);
    raster.setSample(1, 0, 0, 257 * 100);
    DecodedImage d = RasterExtraction.extract(gray16, "png");
    assertThat(d.order()).isEqualTo(ChannelOrder.GRAY);
    assertThat(d.pixels().data()).containsExactly((byte) 255, (byte) 100);
  }
}
