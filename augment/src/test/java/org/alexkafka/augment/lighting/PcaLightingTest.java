package org.alexkafka.augment.lighting;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

class PcaLightingTest {

  // p1 = (1,1,1)/√3, p2 = (1,-1,0)/√2, p3 = (1,1,-2)/√6 as columns; λ = 900, 100, 4.
  private static final double A = 1 / Math.sqrt(3), B = 1 / Math.sqrt(2), C = 1 / Math.sqrt(6);
  private static final RgbPca PCA = new RgbPca(new double[] {900, 100, 4},
      new double[] {A, B, C, A, -B, C, A, 0, -2 * C});

  @Test
  void shiftIsTheEigenvectorMatrixTimesAlphaTimesMagnitude_handComputed() {
    double[] alphas = {0.1, -0.2, 0.5};
    // STDDEV: α·√λ = (0.1·30, −0.2·10, 0.5·2) = (3, −2, 1)
    // R = 3/√3 − 2/√2 + 1/√6 = 1.7320508 − 1.4142136 + 0.4082483 = 0.7260855
    // G = 3/√3 + 2/√2 + 1/√6 = 3.5545127 ; B = 3/√3 + 0 − 2/√6 = 0.9155543
    float[] s = PcaLighting.shift(PCA, alphas, LightingMagnitude.STDDEV);
    assertThat(s[0]).isCloseTo(0.7260855f, within(1e-5f));
    assertThat(s[1]).isCloseTo(3.5545127f, within(1e-5f));
    assertThat(s[2]).isCloseTo(0.9155543f, within(1e-5f));
    // UNIT_RANGE (default): α·λ/255 = (90, −20, 2)/255 = (0.3529412, −0.0784314, 0.0078431)
    // R = 0.3529412/√3 − 0.0784314/√2 + 0.0078431/√6 = 0.2037707 − 0.0554593 + 0.0032020
    float[] unit = PcaLighting.shift(PCA, alphas, LightingMagnitude.UNIT_RANGE);
    assertThat(unit[0]).isCloseTo(0.1515134f, within(1e-6f));
    assertThat(unit[1]).isCloseTo(0.2624320f, within(1e-6f));
    assertThat(unit[2]).isCloseTo(0.1973667f, within(1e-6f));
    // PIXEL_RANGE: α·λ = (90, −20, 2): R = 90/√3 − 20/√2 + 2/√6 = 51.961524 − 14.142136 + 0.816497
    float[] literal = PcaLighting.shift(PCA, alphas, LightingMagnitude.PIXEL_RANGE);
    assertThat(literal[0]).isCloseTo(38.635885f, within(1e-4f));
    assertThat(literal[2]).isCloseTo((float) (90 * A - 4 * C), within(1e-4f));
  }

  @Test
  void noStatisticsMeansNoShiftAndAlphasHaveThePaperSpread() {
    assertThat(PcaLighting.shift(RgbPca.NONE, new double[] {1, 1, 1}, LightingMagnitude.STDDEV)).containsExactly(0f, 0f, 0f);
    Random random = new Random(3);
    double sum = 0, sumSq = 0;
    int n = 30_000;
    for (int i = 0; i < n; i++) {
      for (double a : PcaLighting.drawAlphas(random, PcaLighting.PAPER_ALPHA_STD)) {
        sum += a;
        sumSq += a * a;
      }
    }
    double mean = sum / (3 * n);
    assertThat(mean).isCloseTo(0, within(0.003));
    assertThat(Math.sqrt(sumSq / (3 * n) - mean * mean)).isCloseTo(0.1, within(0.003));
  }

  @Test
  void applyAddsTheSameShiftToEveryPixel() {
    float[] out = PcaLighting.apply(new byte[] {0, (byte) 255, 10, 20, 30, 40}, new float[] {1.5f, -2f, 0.25f});
    assertThat(out).containsExactly(1.5f, 253f, 10.25f, 21.5f, 28f, 40.25f);
  }
}
