package org.alexkafka.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.alexkafka.schemas.topics.SamplePartitioning;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The epoch plan on the layout augment writes: 10 classes of 60 images ingested class by class,
 * K = 8 variants each, variant v of an image in partition (hash + v) mod 8.
 */
class EpochPlanTest {

  private static final int CLASSES = 10;
  private static final int PER_CLASS = 60;
  private static final int K = 8;
  private static final int PARTITIONS = 8;

  /** What sits at each offset: image, variant, class. */
  record At(String image, int variant, int classIndex) {}

  private static final Map<SampleRef, At> topic = new HashMap<>();
  private static final Map<Integer, Long> ends = new TreeMap<>();
  private static final int N = CLASSES * PER_CLASS * K;

  @BeforeAll
  static void layOutTheTopicAsAugmentDoes() {
    long[] next = new long[PARTITIONS];
    for (int c = 0; c < CLASSES; c++) {
      for (int i = 0; i < PER_CLASS; i++) {
        String image = "img-" + c + "-" + i;
        for (int v = 0; v < K; v++) {
          int p = SamplePartitioning.partitionOf(image, v, PARTITIONS);
          topic.put(new SampleRef(p, next[p]++), new At(image, v, c));
        }
      }
    }
    for (int p = 0; p < PARTITIONS; p++) {
      ends.put(p, next[p]);
    }
  }

  private static List<SampleRef> drain(EpochPlan plan) {
    List<SampleRef> out = new ArrayList<>();
    SampleRef r;
    while ((r = plan.next(ref -> { })) != null) {
      out.add(r);
    }
    return out;
  }

  private static List<SampleRef> epoch(int e) {
    return drain(EpochPlan.of(42, e, ends, ShuffledEpoch.DEFAULT_BLOCK, 1024));
  }

  /** What the trainer did before the global shuffle: partitions round-robin in topic order, through a 2,048-sample window. */
  private static List<SampleRef> windowShuffle(int epoch, int window) {
    List<SampleRef> topicOrder = new ArrayList<>();
    for (long o = 0; topicOrder.size() < N; o++) {
      for (int p = 0; p < PARTITIONS; p++) {
        if (o < ends.get(p)) {
          topicOrder.add(new SampleRef(p, o));
        }
      }
    }
    SplitMix64 rng = new SplitMix64(42L * 0x9E3779B97F4A7C15L + epoch);
    List<SampleRef> buffer = new ArrayList<>();
    List<SampleRef> out = new ArrayList<>();
    int read = 0;
    while (out.size() < N) {
      while (buffer.size() < window && read < N) {
        buffer.add(topicOrder.get(read++));
      }
      int i = rng.nextInt(buffer.size());
      out.add(buffer.get(i));
      buffer.set(i, buffer.get(buffer.size() - 1));
      buffer.remove(buffer.size() - 1);
    }
    return out;
  }

  @Test
  void everyOffsetComesExactlyOnceAndTheOrderIsAFunctionOfSeedAndEpoch() {
    List<SampleRef> first = epoch(1);
    assertThat(first).hasSize(N).doesNotHaveDuplicates();
    assertThat(new HashSet<>(first)).isEqualTo(topic.keySet());
    assertThat(epoch(1)).isEqualTo(first);
    assertThat(epoch(2)).isNotEqualTo(first);
    assertThat(drain(EpochPlan.of(43, 1, ends, ShuffledEpoch.DEFAULT_BLOCK, 1024))).isNotEqualTo(first);
  }

  @Test
  void theOrderIsAsMixedAsAUniformPermutationAndTheReaderItReplacesIsNot() {
    List<SampleRef> uniform = new ArrayList<>();
    topic.keySet().stream().sorted(Comparator.comparingInt(SampleRef::partition).thenComparingLong(SampleRef::offset))
        .forEach(uniform::add);
    Collections.shuffle(uniform, new Random(1));
    double uniformImbalance = OrderStatistics.classImbalance(uniform, r -> topic.get(r).classIndex(), 256);

    List<SampleRef> e1 = epoch(1);
    List<SampleRef> e2 = epoch(2);
    assertThat(OrderStatistics.variantSpread(e1, r -> topic.get(r).image())).as("variant spread, uniform = 1")
        .isBetween(0.9, 1.1);
    assertThat(Math.abs(OrderStatistics.rankCorrelation(e1, e2))).as("rank correlation of epochs 1 and 2").isLessThan(0.1);
    assertThat(OrderStatistics.classImbalance(e1, r -> topic.get(r).classIndex(), 256)).as("class mix of 256-sample windows")
        .isLessThan(1.6 * uniformImbalance);
    assertThat(OrderStatistics.classPositionBias(e1, r -> topic.get(r).classIndex())).isLessThan(0.1);
    assertThat(OrderStatistics.classesPerBatch(e1, r -> topic.get(r).classIndex(), 32))
        .isGreaterThan(OrderStatistics.uniformClassesPerBatch(CLASSES, 32) - 0.4);

    // The reader this plan replaces (each epoch the topic's order through a 2,048-sample window)
    // fails the same checks: its order follows the topic's, so epochs are alike and the classes
    // come in the order they were ingested.
    List<SampleRef> old1 = windowShuffle(1, 2048);
    List<SampleRef> old2 = windowShuffle(2, 2048);
    assertThat(OrderStatistics.rankCorrelation(old1, old2)).isGreaterThan(0.2);
    assertThat(OrderStatistics.classImbalance(old1, r -> topic.get(r).classIndex(), 256)).isGreaterThan(3 * uniformImbalance);
    assertThat(OrderStatistics.classPositionBias(old1, r -> topic.get(r).classIndex())).isGreaterThan(0.2);
  }

  @Test
  void aPlanSkippedToAPositionContinuesLikeTheOneThatGotThere() {
    EpochPlan full = EpochPlan.of(7, 3, ends, 16, 256);
    List<SampleRef> head = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      head.add(full.next(r -> { }));
    }
    List<SampleRef> bufferThen = full.buffered();
    List<SampleRef> tail = drain(full);

    EpochPlan resumed = EpochPlan.of(7, 3, ends, 16, 256);
    resumed.skip(1000);
    assertThat(resumed.position()).isEqualTo(1000);
    assertThat(resumed.buffered()).isEqualTo(bufferThen).hasSize(255); // refilled to 256, then one handed out
    List<SampleRef> readAfter = new ArrayList<>();
    List<SampleRef> resumedTail = new ArrayList<>();
    SampleRef r;
    while ((r = resumed.next(readAfter::add)) != null) {
      resumedTail.add(r);
    }
    assertThat(resumedTail).isEqualTo(tail);
    Set<SampleRef> all = new HashSet<>(head);
    all.addAll(bufferThen);
    all.addAll(readAfter);
    assertThat(all).hasSize(N); // what was read before, the buffer, and what is read after: every offset once
  }

  @Test
  void readsAreSequentialWithinABlockAndBlocksAreTheTopicCutInPieces() {
    EpochPlan plan = EpochPlan.of(1, 1, ends, 64, 100);
    List<SampleRef> reads = new ArrayList<>();
    while (plan.next(reads::add) != null) {
      // reads collected
    }
    int seeks = 1;
    for (int i = 1; i < reads.size(); i++) {
      SampleRef a = reads.get(i - 1);
      SampleRef b = reads.get(i);
      if (a.partition() != b.partition() || b.offset() != a.offset() + 1) {
        seeks++;
      }
    }
    assertThat(seeks).isLessThanOrEqualTo(plan.blocks().size());
    assertThat(plan.blocks()).allSatisfy(b -> assertThat(b.end() - b.start()).isBetween(1L, 64L));
  }

  @Test
  void ranksGetDisjointSharesThatCoverTheEpoch() {
    List<SampleRef> r0 = drain(EpochPlan.of(5, 2, ends, 64, 512, 0, 2));
    List<SampleRef> r1 = drain(EpochPlan.of(5, 2, ends, 64, 512, 1, 2));
    Set<SampleRef> union = new HashSet<>(r0);
    union.addAll(r1);
    assertThat(union).hasSize(N);
    assertThat(r0.size() + r1.size()).isEqualTo(N);
    assertThat(Math.abs(r0.size() - r1.size())).isLessThanOrEqualTo(N / 10); // whole blocks: shares differ a little
    assertThatThrownBy(() -> EpochPlan.of(5, 2, ends, 64, 512, 2, 2)).isInstanceOf(IllegalArgumentException.class);
  }
}
