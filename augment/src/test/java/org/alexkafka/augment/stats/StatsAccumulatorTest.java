package org.alexkafka.augment.stats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Instant;
import java.util.Random;
import org.alexkafka.augment.lighting.RgbPca;
import org.alexkafka.schemas.Stats;
import org.junit.jupiter.api.Test;

class StatsAccumulatorTest {

  @Test
  void eigenDecompositionOfAKnownSymmetricMatrix() {
    // [[2,1,0],[1,2,0],[0,0,5]]: eigenvalues 5, 3, 1 with vectors e3, (1,1,0)/√2, (1,-1,0)/√2.
    RgbPca pca = RgbCovariance.pca(new double[][] {{2, 1, 0}, {1, 2, 0}, {0, 0, 5}});
    assertThat(pca.eigenvalues()).containsExactly(new double[] {5, 3, 1}, within(1e-12));
    double r = Math.sqrt(0.5);
    assertThat(new double[] {pca.vector(0, 0), pca.vector(1, 0), pca.vector(2, 0)}).containsExactly(new double[] {0, 0, 1}, within(1e-12));
    assertThat(new double[] {pca.vector(0, 1), pca.vector(1, 1), pca.vector(2, 1)}).containsExactly(new double[] {r, r, 0}, within(1e-12));
    assertThat(Math.abs(pca.vector(0, 2))).isCloseTo(r, within(1e-12));
    assertThat(pca.vector(0, 2) * pca.vector(1, 2)).isCloseTo(-0.5, within(1e-12));
  }

  @Test
  void sumsMatchADirectComputationAndSurviveBothEncodings() {
    int w = 5, h = 3;
    Random random = new Random(9);
    byte[][] images = new byte[4][w * h * 3];
    StatsAccumulator acc = new StatsAccumulator(w, h);
    for (byte[] img : images) {
      random.nextBytes(img);
      acc.add(img, 0);
    }
    // Direct computation in doubles.
    double[] mean = new double[3];
    double n = 4.0 * w * h;
    for (byte[] img : images) {
      for (int i = 0; i < img.length; i++) {
        mean[i % 3] += (img[i] & 0xff) / n;
      }
    }
    double[][] cov = new double[3][3];
    for (byte[] img : images) {
      for (int p = 0; p < w * h; p++) {
        for (int i = 0; i < 3; i++) {
          for (int j = 0; j < 3; j++) {
            cov[i][j] += ((img[3 * p + i] & 0xff) - mean[i]) * ((img[3 * p + j] & 0xff) - mean[j]) / n;
          }
        }
      }
    }
    double[][] got = RgbCovariance.covariance(acc);
    for (int i = 0; i < 3; i++) {
      assertThat(got[i]).containsExactly(cov[i], within(1e-9));
    }
    long pos7 = 0;
    for (byte[] img : images) {
      pos7 += img[7] & 0xff;
    }
    assertThat(acc.pixelSum(7)).isEqualTo(pos7);
    assertThat(acc.count()).isEqualTo(4);

    Stats stats = acc.toStats(Instant.EPOCH);
    StatsAccumulator back = StatsAccumulator.fromStats(stats);
    assertThat(back.toBytes()).containsExactly(acc.toBytes());
    assertThat(StatsAccumulator.fromBytes(acc.toBytes()).toStats(Instant.EPOCH)).isEqualTo(stats);
    assertThat(stats.getEigenvalues()).hasSize(3).isSortedAccordingTo((a, b) -> Double.compare(b, a));
  }

  @Test
  void sumsBeyondAnIntSurviveTheStoreEncoding() {
    StatsAccumulator small = new StatsAccumulator(2, 1);
    small.add(new byte[] {1, 2, 3, 4, 5, 6}, 0);
    Stats stats = small.toStats(Instant.EPOCH);
    stats.setCount(9_000_000L); // more than 2^31/255 images: the sums need 8 bytes
    stats.setPixelSums(java.util.List.of(3_000_000_000L, 1L, 2L, 3L, 4L, 5L));
    StatsAccumulator big = StatsAccumulator.fromStats(stats);
    StatsAccumulator back = StatsAccumulator.fromBytes(big.toBytes());
    assertThat(back.count()).isEqualTo(9_000_000L);
    assertThat(back.pixelSum(0)).isEqualTo(3_000_000_000L);
    assertThat(back.toStats(Instant.EPOCH)).isEqualTo(big.toStats(Instant.EPOCH));
    assertThat(big.toBytes().length).isGreaterThan(small.toBytes().length);
  }

  @Test
  void partialsAddUpToTheWhole() {
    Random random = new Random(2);
    StatsAccumulator whole = new StatsAccumulator(2, 2), a = new StatsAccumulator(2, 2), b = new StatsAccumulator(2, 2);
    for (int i = 0; i < 6; i++) {
      byte[] img = new byte[12];
      random.nextBytes(img);
      whole.add(img, 0);
      (i % 2 == 0 ? a : b).add(img, 0);
    }
    a.addAll(b);
    assertThat(a.toBytes()).containsExactly(whole.toBytes());
  }
}
