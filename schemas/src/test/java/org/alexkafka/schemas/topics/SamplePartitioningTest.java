package org.alexkafka.schemas.topics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SamplePartitioningTest {

  @Test
  void theVariantsOfOneImageLandInDistinctPartitionsWhenThereAreEnough() {
    for (int i = 0; i < 200; i++) {
      Set<Integer> seen = new HashSet<>();
      for (int v = 0; v < 8; v++) {
        int p = SamplePartitioning.partitionOf("image-" + i, v, 8);
        assertThat(p).isBetween(0, 7);
        seen.add(p);
      }
      assertThat(seen).hasSize(8);
    }
  }

  @Test
  void imagesStartAtSpreadPartitionsAndTheSameInputAlwaysGivesTheSamePartition() {
    int[] firstVariant = new int[8];
    for (int i = 0; i < 800; i++) {
      firstVariant[SamplePartitioning.partitionOf("image-" + i, 0, 8)]++;
    }
    for (int count : firstVariant) {
      assertThat(count).isBetween(60, 140); // 100 expected per partition
    }
    assertThat(SamplePartitioning.partitionOf("abc", 3, 5)).isEqualTo(SamplePartitioning.partitionOf("abc", 3, 5));
    assertThat(SamplePartitioning.partitionOf("abc", 3, 5)).isEqualTo((SamplePartitioning.partitionOf("abc", 0, 5) + 3) % 5);
    assertThatThrownBy(() -> SamplePartitioning.partitionOf("abc", 0, 0)).isInstanceOf(IllegalArgumentException.class);
  }
}
