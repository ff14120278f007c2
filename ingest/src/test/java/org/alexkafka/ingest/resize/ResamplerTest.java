package org.alexkafka.ingest.resize;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ResamplerTest {

  private static Pixels gray(int w, int h, int... values) {
    byte[] data = new byte[w * h];
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) values[i];
    }
    return new Pixels(w, h, 1, data);
  }

  @Test
  void halvingARowMatchesTheHandComputedTentWeights() {
    // 4 -> 2: scale 2, tent widened to support 2. Output 0 centred at 1.0 covers inputs 0,1,2 with
    // tent(0.25)=0.75, tent(0.25)=0.75, tent(0.75)=0.25 -> weights 3/7, 3/7, 1/7:
    //   (0*3 + 100*3 + 200*1) / 7 = 71.43 -> 71
    // Output 1 centred at 3.0 covers inputs 1,2,3 with weights 1/7, 3/7, 3/7:
    //   (100*1 + 200*3 + 255*3) / 7 = 209.29 -> 209
    Pixels out = Resampler.resize(gray(4, 1, 0, 100, 200, 255), 2, 1, ResampleFilter.TRIANGLE);
    assertThat(out.width()).isEqualTo(2);
    assertThat(out.sample(0, 0, 0)).isEqualTo(71);
    assertThat(out.sample(1, 0, 0)).isEqualTo(209);
  }

  @Test
  void thePackedRgbPathGivesTheSameHandComputedValues() {
    // Same row, three channels (R = the row, G = 255 - row, B = 50): the 3-channel fast path
    // (12-bit weights, channels packed in one long) must agree with the hand computation.
    int[] row = {0, 100, 200, 255};
    byte[] data = new byte[12];
    for (int i = 0; i < 4; i++) {
      data[3 * i] = (byte) row[i];
      data[3 * i + 1] = (byte) (255 - row[i]);
      data[3 * i + 2] = 50;
    }
    Pixels out = Resampler.resize(new Pixels(4, 1, 3, data), 2, 1, ResampleFilter.TRIANGLE);
    assertThat(out.sample(0, 0, 0)).isEqualTo(71);
    assertThat(out.sample(1, 0, 0)).isEqualTo(209);
    // G: (255*3 + 155*3 + 55) / 7 = 183.6 -> 184 ; (155 + 55*3 + 0*3) / 7 = 45.7 -> 46
    assertThat(out.sample(0, 0, 1)).isEqualTo(184);
    assertThat(out.sample(1, 0, 1)).isEqualTo(46);
    assertThat(out.sample(0, 0, 2)).isEqualTo(50);
    assertThat(out.sample(1, 0, 2)).isEqualTo(50);
  }

  @Test
  void packedAndGenericPathsAgreeOnARealisticReduction() {
    java.util.Random rnd = new java.util.Random(1);
    int w = 500;
    int h = 375;
    byte[] rgb = new byte[w * h * 3];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        for (int c = 0; c < 3; c++) {
          rgb[(y * w + x) * 3 + c] = (byte) Math.min(255, Math.max(0, (x + 2 * y + 60 * c) / 4 + rnd.nextInt(21) - 10));
        }
      }
    }
    Pixels packed = Resampler.shorterSideThenCentreCrop(new Pixels(w, h, 3, rgb), 256, ResampleFilter.TRIANGLE);
    // The generic path, one channel at a time.
    for (int c = 0; c < 3; c++) {
      byte[] plane = new byte[w * h];
      for (int i = 0; i < plane.length; i++) {
        plane[i] = rgb[i * 3 + c];
      }
      Pixels generic = Resampler.shorterSideThenCentreCrop(new Pixels(w, h, 1, plane), 256, ResampleFilter.TRIANGLE);
      for (int i = 0; i < 256 * 256; i++) {
        assertThat(Math.abs((packed.data()[i * 3 + c] & 0xFF) - (generic.data()[i] & 0xFF))).isLessThanOrEqualTo(1);
      }
    }
  }

  @Test
  void shorterSideGoesToTheTargetAndTheLongerIsRounded() {
    assertThat(Resampler.scaledSize(500, 375, 256)).containsExactly(341, 256);
    assertThat(Resampler.scaledSize(375, 500, 256)).containsExactly(256, 341);
    assertThat(Resampler.scaledSize(1, 1, 256)).containsExactly(256, 256);
    assertThat(Resampler.centreCropOrigin(341, 256, 256)).containsExactly(42, 0);
  }

  @Test
  void aScaleOfOneIsTheIdentity() {
    Pixels src = gray(3, 2, 1, 2, 3, 4, 5, 6);
    assertThat(Resampler.resize(src, 3, 2, ResampleFilter.TRIANGLE).data()).isEqualTo(src.data());
  }

  @Test
  void centreCropOfAPortraitTakesTheMiddleRows() {
    // 100 x 300, size 100: no scaling, rows 100..199 kept. Each pixel holds its row / 2.
    byte[] data = new byte[100 * 300];
    for (int y = 0; y < 300; y++) {
      for (int x = 0; x < 100; x++) {
        data[y * 100 + x] = (byte) (y / 2);
      }
    }
    Pixels out = Resampler.shorterSideThenCentreCrop(new Pixels(100, 300, 1, data), 100, ResampleFilter.TRIANGLE);
    assertThat(out.width()).isEqualTo(100);
    assertThat(out.height()).isEqualTo(100);
    for (int y = 0; y < 100; y++) {
      assertThat(out.sample(37, y, 0)).as("row %d", y).isEqualTo((y + 100) / 2);
    }
  }

  @Test
  void centreCropOfALandscapeTakesTheMiddleColumnsOfTheScaledImage() {
    // 600 x 200 RGB, size 100: scaled to 300 x 100, columns 100..199 of the scaled image kept,
    // i.e. source columns 200..399. Red marks source columns >= 300 (the right half of the crop).
    byte[] data = new byte[600 * 200 * 3];
    for (int y = 0; y < 200; y++) {
      for (int x = 0; x < 600; x++) {
        data[(y * 600 + x) * 3] = (byte) (x >= 300 ? 255 : 0);
        data[(y * 600 + x) * 3 + 2] = (byte) 77;
      }
    }
    Pixels out = Resampler.shorterSideThenCentreCrop(new Pixels(600, 200, 3, data), 100, ResampleFilter.TRIANGLE);
    assertThat(out.width()).isEqualTo(100);
    assertThat(out.channels()).isEqualTo(3);
    assertThat(out.sample(0, 50, 0)).isZero();
    assertThat(out.sample(48, 50, 0)).isZero();
    // Crop column 50 is scaled column 150, centred on source x = 301 with tent weights 1/8, 3/8,
    // 3/8, 1/8 over source columns 299..302: only 299 is dark -> 255 * 7/8 = 223. Column 49 sees
    // only source column 300 (weight 1/8) -> 32.
    assertThat(out.sample(49, 50, 0)).isEqualTo(32);
    assertThat(out.sample(50, 50, 0)).isEqualTo(223);
    assertThat(out.sample(51, 50, 0)).isEqualTo(255);
    assertThat(out.sample(99, 50, 0)).isEqualTo(255);
    assertThat(out.sample(20, 10, 2)).isEqualTo(77);
  }

  @Test
  void bigReductionsAreAntialiased() {
    // A one-pixel checkerboard shrunk 8x: plain bilinear sampling returns 0s and 255s (aliasing),
    // an antialiased filter returns the average grey everywhere.
    int n = 256;
    byte[] data = new byte[n * n];
    for (int y = 0; y < n; y++) {
      for (int x = 0; x < n; x++) {
        data[y * n + x] = (byte) (((x + y) & 1) == 0 ? 255 : 0);
      }
    }
    Pixels out = Resampler.resize(new Pixels(n, n, 1, data), 32, 32, ResampleFilter.TRIANGLE);
    for (byte b : out.data()) {
      assertThat(b & 0xFF).isBetween(120, 135);
    }
  }
}
