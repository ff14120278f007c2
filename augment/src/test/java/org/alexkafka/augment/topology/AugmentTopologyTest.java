package org.alexkafka.augment.topology;

import static org.alexkafka.augment.testing.TestImages.coordinatePixels;
import static org.alexkafka.augment.testing.TestImages.image;
import static org.alexkafka.augment.testing.TestImages.randomPixels;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.alexkafka.augment.crop.CropGeometry;
import org.alexkafka.augment.crop.CropWindow;
import org.alexkafka.augment.lighting.LightingMagnitude;
import org.alexkafka.augment.lighting.PcaLighting;
import org.alexkafka.augment.lighting.RgbPca;
import org.alexkafka.augment.sample.VariantSeeds;
import org.alexkafka.augment.stats.RgbCovariance;
import org.alexkafka.augment.stats.StatsAccumulator;
import org.alexkafka.schemas.Image;
import org.alexkafka.schemas.Rejection;
import org.alexkafka.schemas.Sample;
import org.alexkafka.schemas.Split;
import org.alexkafka.schemas.Stats;
import org.alexkafka.schemas.serde.RecordSerdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AugmentTopologyTest {

  private static final int SIZE = 64;
  private static final int CROP = 56;

  @TempDir
  Path stateDir;

  private static byte[] bytes(Sample s) {
    ByteBuffer b = s.getPixels().duplicate();
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }

  /** Every crop pixel comes from (cropX + col or its mirror, cropY + row) of the coordinate image. */
  private static void assertCutFromCoordinates(Sample s, int salt) {
    byte[] px = bytes(s);
    int c = s.getCropSize();
    assertThat(px).hasSize(c * c * 3);
    for (int row = 0; row < c; row++) {
      for (int col = 0; col < c; col++) {
        int i = (row * c + col) * 3;
        int srcX = s.getCropX() + (s.getMirrored() ? c - 1 - col : col);
        assertThat(px[i] & 0xff).isEqualTo(srcX);
        assertThat(px[i + 1] & 0xff).isEqualTo(s.getCropY() + row);
        assertThat(px[i + 2] & 0xff).isEqualTo(salt);
      }
    }
  }

  @Test
  void trainingImagesBecomeKCropsWithReflectionsInsideTheImageKeyedPerVariant() {
    try (TopologyFixture f = new TopologyFixture(stateDir, 7, 16, CROP)) {
      f.label("n1", 3);
      f.image(image("img-a", "n1", Split.TRAIN, SIZE, coordinatePixels(SIZE, 77)));
      List<KeyValue<String, Sample>> out = f.train.readKeyValuesToList();
      assertThat(out).hasSize(16);
      Set<Boolean> flips = new HashSet<>();
      for (int v = 0; v < 16; v++) {
        KeyValue<String, Sample> kv = out.get(v);
        Sample s = kv.value;
        assertThat(kv.key).isEqualTo("img-a#" + v);
        assertThat(s.getVariant()).isEqualTo(v);
        assertThat(s.getViews()).isEqualTo(1);
        assertThat(s.getClassIndex()).isEqualTo(3);
        assertThat(s.getLabel()).isEqualTo("n1");
        assertThat(s.getImageSize()).isEqualTo(SIZE);
        assertThat(s.getCropX()).isBetween(0, SIZE - CROP - 1);
        assertThat(s.getCropY()).isBetween(0, SIZE - CROP - 1);
        assertThat(s.getLighting()).containsExactly(0f, 0f, 0f); // no statistics yet
        assertCutFromCoordinates(s, 77);
        flips.add(s.getMirrored());
        // The variant's crop is the one its derived seed draws.
        CropWindow expected = new CropGeometry(SIZE, CROP).randomTrainingCrop(VariantSeeds.random(7, "img-a", v));
        assertThat(new CropWindow(s.getCropX(), s.getCropY(), CROP, s.getMirrored())).isEqualTo(expected);
      }
      assertThat(flips).containsExactlyInAnyOrder(true, false);
      assertThat(f.counter("augment.samples", "topic", "t.samples.train")).isEqualTo(16);
    }
  }

  @Test
  void theSameSeedImageAndVariantGiveByteIdenticalSamples_anotherSeedDoesNot() {
    List<byte[]> first = run(11), second = run(11), other = run(12);
    assertThat(first).hasSameSizeAs(second);
    for (int i = 0; i < first.size(); i++) {
      assertThat(second.get(i)).containsExactly(first.get(i));
    }
    assertThat(other.get(0)).isNotEqualTo(first.get(0));
  }

  private List<byte[]> run(long seed) {
    try (TopologyFixture f = new TopologyFixture(stateDir.resolve("s" + seed + "-" + System.nanoTime()), seed, 4, CROP)) {
      f.label("n1", 0);
      f.image(image("img-d", "n1", Split.TRAIN, SIZE, randomPixels(SIZE, 5)));
      List<byte[]> out = new ArrayList<>();
      for (Sample s : f.train.readValuesToList()) {
        out.add(RecordSerdes.sample().serialize("x", s));
      }
      return out;
    }
  }

  @Test
  void validationImagesBecomeTheTenTestViewsKeyedByImageId() {
    try (TopologyFixture f = new TopologyFixture(stateDir, 7, 8, CROP)) {
      f.label("n2", 5);
      f.image(image("img-v", "n2", Split.VAL, SIZE, coordinatePixels(SIZE, 9)));
      List<KeyValue<String, Sample>> out = f.val.readKeyValuesToList();
      List<CropWindow> views = new CropGeometry(SIZE, CROP).testViews();
      assertThat(out).hasSize(10);
      for (int v = 0; v < 10; v++) {
        Sample s = out.get(v).value;
        assertThat(out.get(v).key).isEqualTo("img-v");
        assertThat(s.getVariant()).isEqualTo(v);
        assertThat(s.getViews()).isEqualTo(10);
        assertThat(new CropWindow(s.getCropX(), s.getCropY(), CROP, s.getMirrored())).isEqualTo(views.get(v));
        assertThat(s.getLighting()).containsExactly(0f, 0f, 0f);
        assertCutFromCoordinates(s, 9);
      }
      assertThat(out.get(0).value.getCropX()).isEqualTo((SIZE - CROP) / 2);
      assertThat(f.train.isEmpty()).isTrue();
      assertThat(f.stats.isEmpty()).isTrue();
    }
  }

  @Test
  void statisticsEqualADirectComputationCountEachImageOnceAndDriveTheLighting() {
    try (TopologyFixture f = new TopologyFixture(stateDir, 3, 2, CROP)) {
      f.label("n1", 0);
      f.label("n2", 1);
      StatsAccumulator direct = new StatsAccumulator(SIZE, SIZE);
      List<byte[]> trainPixels = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        // Skewed colours so the covariance has distinct eigenvalues.
        byte[] px = randomPixels(SIZE, 100 + i);
        for (int p = 0; p < px.length; p += 3) {
          px[p + 1] = (byte) ((px[p] & 0xff) / 2 + (px[p + 1] & 0xff) / 4);
        }
        trainPixels.add(px);
        direct.add(px, 0);
        f.image(image("train-" + i, i % 2 == 0 ? "n1" : "n2", Split.TRAIN, SIZE, px));
      }
      f.image(image("train-2", "n1", Split.TRAIN, SIZE, trainPixels.get(2))); // a replay: counted once
      f.image(image("val-0", "n1", Split.VAL, SIZE, randomPixels(SIZE, 999))); // not counted
      assertThat(f.stats.isEmpty()).as("statistics are published on the interval, not per image").isTrue();
      f.driver.advanceWallClockTime(Duration.ofSeconds(5)); // tasks publish their partials
      f.driver.advanceWallClockTime(Duration.ofSeconds(5)); // the merge step publishes the sum

      List<Stats> published = f.stats.readValuesToList();
      assertThat(published).as("one partial, one coalesced publication").hasSize(1);
      Stats stats = published.get(published.size() - 1);
      assertThat(stats.getCount()).isEqualTo(6);
      assertThat(StatsAccumulator.fromStats(stats).toBytes()).containsExactly(direct.toBytes());
      RgbPca expected = RgbCovariance.pca(RgbCovariance.covariance(direct));
      assertThat(stats.getEigenvalues().stream().mapToDouble(Double::doubleValue).toArray())
          .containsExactly(expected.eigenvalues(), within(1e-9));
      assertThat(stats.getEigenvalues().get(0)).isGreaterThan(stats.getEigenvalues().get(1));
      assertThat(f.registry.get("augment.stats.images").counter().count()).isEqualTo(6);

      // The next training image's lighting uses the published PCA: α from the variant's seed.
      f.driver.advanceWallClockTime(Duration.ofSeconds(1));
      f.train.readValuesToList();
      f.image(image("train-new", "n1", Split.TRAIN, SIZE, randomPixels(SIZE, 4242)));
      List<Sample> lit = f.train.readValuesToList();
      assertThat(lit).hasSize(2);
      RgbPca pca = RgbPca.of(stats.getEigenvalues(), stats.getEigenvectors());
      for (Sample s : lit) {
        Random r = VariantSeeds.random(3, "train-new", s.getVariant());
        new CropGeometry(SIZE, CROP).randomTrainingCrop(r);
        float[] shift = PcaLighting.shift(pca, PcaLighting.drawAlphas(r, 0.1), LightingMagnitude.UNIT_RANGE);
        assertThat(s.getLighting()).containsExactly(shift[0], shift[1], shift[2]);
        assertThat(Math.abs(s.getLighting().get(0)) + Math.abs(s.getLighting().get(1))).isGreaterThan(0f);
      }
    }
  }

  @Test
  void poisonRecordsAreDeadLetteredAndProcessingContinues() {
    try (TopologyFixture f = new TopologyFixture(stateDir, 1, 2, CROP)) {
      f.label("n1", 0);
      byte[] garbage = "not an image record".getBytes();
      f.images.pipeInput("junk", garbage);
      Image shortPixels = image("img-short", "n1", Split.TRAIN, SIZE, new byte[SIZE * SIZE * 3 - 1]);
      f.image(shortPixels);
      Image notSquare = image("img-wide", "n1", Split.TRAIN, SIZE, new byte[SIZE * 32 * 3]);
      notSquare.setHeight(32);
      f.image(notSquare);
      f.image(image("img-ok", "n1", Split.TRAIN, SIZE, randomPixels(SIZE, 1)));

      List<Rejection> rejections = f.rejected.readValuesToList();
      assertThat(rejections).extracting(Rejection::getReason)
          .containsExactly("poison-record", "wrong-pixel-length", "wrong-size");
      assertThat(rejections).allMatch(r -> r.getStage().equals("augment"));
      assertThat(rejections.get(0).getSource()).isEqualTo("t.images-0@0");
      assertThat(rejections.get(0).getDetail()).contains("not a known Image record");
      byte[] payload = new byte[rejections.get(0).getPayload().remaining()];
      rejections.get(0).getPayload().get(payload);
      assertThat(payload).containsExactly(garbage);
      assertThat(rejections.get(1).getImageId()).isEqualTo("img-short");
      assertThat(rejections.get(1).getDetail()).contains("12287").contains("12288");
      assertThat(f.train.readValuesToList()).hasSize(2).allMatch(s -> s.getImageId().equals("img-ok"));
      assertThat(f.counter("augment.records.rejected", "reason", "poison-record")).isEqualTo(1);
    }
  }

  @Test
  void anImageWaitsForALateLabelAndIsDeadLetteredWhenItNeverComes() {
    try (TopologyFixture f = new TopologyFixture(stateDir, 1, 2, CROP)) {
      f.image(image("early", "late-class", Split.TRAIN, SIZE, randomPixels(SIZE, 1)));
      f.image(image("orphan", "no-such-class", Split.VAL, SIZE, randomPixels(SIZE, 2)));
      assertThat(f.train.isEmpty()).isTrue();
      f.driver.advanceWallClockTime(Duration.ofSeconds(2));
      assertThat(f.train.isEmpty()).isTrue();

      f.label("late-class", 4);
      f.driver.advanceWallClockTime(Duration.ofSeconds(1));
      List<Sample> late = f.train.readValuesToList();
      assertThat(late).hasSize(2).allMatch(s -> s.getImageId().equals("early") && s.getClassIndex() == 4);
      assertThat(f.rejected.isEmpty()).isTrue();

      f.driver.advanceWallClockTime(Duration.ofSeconds(30));
      List<TestRecord<String, Rejection>> rejected = f.rejected.readRecordsToList();
      assertThat(rejected).hasSize(1);
      Rejection r = rejected.get(0).value();
      assertThat(r.getReason()).isEqualTo("unknown-label");
      assertThat(r.getImageId()).isEqualTo("orphan");
      assertThat(r.getDetail()).contains("no-such-class");
      assertThat(r.getSource()).isEqualTo("t.images-0@1");
      assertThat(f.val.isEmpty()).isTrue();
      f.driver.advanceWallClockTime(Duration.ofSeconds(30));
      assertThat(f.rejected.isEmpty()).as("rejected once").isTrue();
    }
  }
}
