package org.alexkafka.trainer.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.List;
import org.alexkafka.schemas.LabelEntry;
import org.alexkafka.schemas.Sample;
import org.junit.jupiter.api.Test;

class ReportCollectorTest {

  private static final String[] IDS = {"n03028079", "n01440764", "n03000684"};

  private static Sample sample(String imageId, int classIndex) {
    return Sample.newBuilder().setImageId(imageId).setClassIndex(classIndex).setLabel(IDS[classIndex]).setImageSize(8)
        .setCropSize(4).setCropX(0).setCropY(0).setMirrored(false).setLighting(List.of(0f, 0f, 0f)).setVariant(0)
        .setViews(1).setPixels(ByteBuffer.wrap(new byte[4 * 4 * 3])).build();
  }

  private static ClassNames names() {
    // the third class has no human name: it is shown by its id
    return new ClassNames(List.of(new LabelEntry(IDS[0], 0, "church, church building"),
        new LabelEntry(IDS[1], 1, "tench, Tinca tinca"), new LabelEntry(IDS[2], 2, "")));
  }

  @Test
  void classesAreShownByNameAndIdOrIdAlone() {
    assertThat(ClassNames.display("n03028079", "church, church building")).isEqualTo("church (n03028079)");
    assertThat(ClassNames.display("n03000684", "")).isEqualTo("n03000684");
    assertThat(ClassNames.display("tench", "tench")).isEqualTo("tench"); // folder names: said once
    assertThat(names().display(1, "ignored")).isEqualTo("tench (n01440764)");
    assertThat(ClassNames.none().display(4, "n09999999")).isEqualTo("n09999999");
    assertThat(ClassNames.none().display(4, "")).isEqualTo("#4");
  }

  @Test
  void tilesShowWrongPredictionsFirstWithTheTopThreeProbabilities() {
    ReportCollector collector = new ReportCollector(3, 3, names());
    collector.accept(sample("right-1", 0), new float[] {0.7f, 0.2f, 0.1f});
    collector.accept(sample("right-2", 1), new float[] {0.1f, 0.8f, 0.1f});
    collector.accept(sample("wrong-1", 1), new float[] {0.5f, 0.2f, 0.3f});
    collector.accept(sample("wrong-2", 2), new float[] {0.05f, 0.9f, 0.05f});

    List<PredictionTile> tiles = collector.tiles();

    assertThat(tiles).hasSize(3);
    assertThat(tiles).extracting(PredictionTile::correct).containsExactly(false, false, true);
    PredictionTile first = tiles.get(0);
    assertThat(first.label()).isEqualTo("tench (n01440764)");
    assertThat(first.top()).containsExactly(new PredictionTile.Guess("church (n03028079)", 0.5f),
        new PredictionTile.Guess("n03000684", 0.3f), new PredictionTile.Guess("tench (n01440764)", 0.2f));
    assertThat(tiles.get(2).label()).isEqualTo("church (n03028079)");

    ConfusionSummary confusion = collector.confusion();
    assertThat(confusion.classNames()).containsExactly("church (n03028079)", "tench (n01440764)", "n03000684");
    assertThat(confusion.counts()).isEqualTo(new long[][] {{1, 0, 0}, {1, 1, 0}, {0, 1, 0}});
  }

  @Test
  void topKTakesTheLargestFirst() {
    assertThat(ReportCollector.topK(new float[] {0.1f, 0.4f, 0.2f, 0.3f}, 3)).containsExactly(1, 3, 2);
    assertThat(ReportCollector.topK(new float[] {0.6f, 0.4f}, 2)).containsExactly(0, 1);
  }
}
