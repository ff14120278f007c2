package org.alexkafka.augment.crop;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.alexkafka.augment.sample.VariantSeeds;
import org.junit.jupiter.api.Test;

class CropGeometryTest {

  private final CropGeometry paper = new CropGeometry(256, 224);

  @Test
  void theDerivedVariantDrawsReachAllPaper2048CropFlipCombinationsAndNoOther() {
    assertThat(paper.trainingCombinations()).isEqualTo(2048);
    Set<CropWindow> seen = new HashSet<>();
    // The real draw path: per (seed, image, variant) random, as the topology uses it.
    for (int variant = 0; variant < 40_000 && seen.size() < 2048; variant++) {
      CropWindow w = paper.randomTrainingCrop(VariantSeeds.random(42L, "img", variant));
      assertThat(w.fitsIn(256)).as("%s inside the image", w).isTrue();
      assertThat(w.x()).isBetween(0, 31);
      assertThat(w.y()).isBetween(0, 31);
      seen.add(w);
    }
    assertThat(seen).hasSize(2048);
  }

  @Test
  void theTenTestViewsAreTheFourCornersAndTheCentreAndTheirReflections() {
    List<CropWindow> views = paper.testViews();
    assertThat(views).containsExactly(
        new CropWindow(16, 16, 224, false), new CropWindow(0, 0, 224, false), new CropWindow(32, 0, 224, false),
        new CropWindow(0, 32, 224, false), new CropWindow(32, 32, 224, false),
        new CropWindow(16, 16, 224, true), new CropWindow(0, 0, 224, true), new CropWindow(32, 0, 224, true),
        new CropWindow(0, 32, 224, true), new CropWindow(32, 32, 224, true));
    assertThat(views).allMatch(w -> w.fitsIn(256));
    assertThat(views.get(0)).isEqualTo(paper.centre());
  }

  @Test
  void aScaledDownGeometryHasOffsetsSquaredTimesTwoCombinations() {
    CropGeometry small = new CropGeometry(64, 56);
    Set<CropWindow> seen = new HashSet<>();
    Random random = new Random(1);
    for (int i = 0; i < 5_000; i++) {
      seen.add(small.randomTrainingCrop(random));
    }
    assertThat(seen).hasSize(128).allMatch(w -> w.fitsIn(64));
  }
}
