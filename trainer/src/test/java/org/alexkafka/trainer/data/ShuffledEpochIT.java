package org.alexkafka.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Function;
import org.alexkafka.schemas.Sample;
import org.alexkafka.schemas.serde.RecordSerdes;
import org.alexkafka.schemas.topics.Topics;
import org.alexkafka.trainer.support.TestData;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The global shuffle against the real broker: a topic written class by class, as augment writes
 * it (K variants of an image in K partitions, transactions with their markers, an aborted one).
 */
class ShuffledEpochIT {

  private static final int CLASSES = 10;
  private static final int PER_CLASS = 12;
  private static final int K = 4;
  private static final int SAMPLES = CLASSES * PER_CLASS * K;
  private static final int BLOCK = 8;
  private static final int BUFFER = 128;
  private static Topics topics;
  private final List<KafkaConsumer<String, Sample>> consumers = new ArrayList<>();

  @BeforeAll
  static void publishClassSortedTopic() throws Exception {
    topics = TestData.freshTopics("shuffle-it");
    List<Sample> sorted = new ArrayList<>();
    for (int c = 0; c < CLASSES; c++) {
      for (int i = 0; i < PER_CLASS; i++) {
        for (int v = 0; v < K; v++) {
          sorted.add(TestData.synthetic("c" + c + "-" + i, c, i, v));
        }
      }
    }
    List<Sample> aborted = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      aborted.add(TestData.synthetic("aborted-" + i, 9, i, 0));
    }
    List<Sample> all = new ArrayList<>(sorted);
    all.addAll(aborted);
    // 48 samples a transaction, as augment commits every interval; the last (the 20 extra) aborted
    TestData.publishAsAugment(topics.samplesTrain(), all, 48, true);
  }

  @AfterEach
  void closeConsumers() {
    consumers.forEach(KafkaConsumer::close);
  }

  private BlockReader reader(Topics t, Function<Sample, String> problem) {
    Map<String, Object> props = new HashMap<>(BlockReader.consumerSettings(BLOCK * 200));
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, TestData.bootstrap());
    KafkaConsumer<String, Sample> consumer = new KafkaConsumer<>(props, new StringDeserializer(), RecordSerdes.sample());
    consumers.add(consumer);
    return new BlockReader(consumer, t.samplesTrain(), problem);
  }

  private static List<TrainSample> drain(ShuffledEpoch epoch) {
    List<TrainSample> out = new ArrayList<>();
    TrainSample s;
    while ((s = epoch.next()) != null) {
      out.add(s);
    }
    return out;
  }

  private static String image(TrainSample s) {
    return s.sample().getImageId().toString();
  }

  @Test
  void everyEpochIsAFreshGlobalOrderOfEveryCommittedSampleOnce() {
    List<TrainSample> e1;
    List<TrainSample> e2;
    try (ShuffledEpoch epoch = new ShuffledEpoch(reader(topics, s -> null), BLOCK, BUFFER, 32)) {
      long span = epoch.startEpoch(1, 7);
      e1 = drain(epoch);
      epoch.startEpoch(2, 7);
      e2 = drain(epoch);
      assertThat(span).isGreaterThan(SAMPLES + 20); // the aborted records and the markers take offsets too
      assertThat(epoch.rejected()).isZero();
    }
    for (List<TrainSample> e : List.of(e1, e2)) {
      assertThat(e).hasSize(SAMPLES);
      assertThat(e.stream().map(TrainSample::ref).distinct().count()).isEqualTo(SAMPLES);
      assertThat(e).noneMatch(s -> image(s).startsWith("aborted"));
    }
    double spread = OrderStatistics.variantSpread(e1, ShuffledEpochIT::image);
    double rho = OrderStatistics.rankCorrelation(e1.stream().map(TrainSample::ref).toList(),
        e2.stream().map(TrainSample::ref).toList());
    assertThat(spread).as("variant spread against a uniform permutation").isGreaterThan(0.8);
    assertThat(Math.abs(rho)).as("rank correlation of epochs 1 and 2").isLessThan(0.2);
    List<TrainSample> uniform = new ArrayList<>(e2);
    Collections.shuffle(uniform, new Random(3));
    // 480 samples are few for this statistic: a loose bound here, EpochPlanTest measures it at scale
    assertThat(OrderStatistics.classImbalance(e1, s -> s.sample().getClassIndex(), 64))
        .isLessThan(2.5 * OrderStatistics.classImbalance(uniform, s -> s.sample().getClassIndex(), 64));
  }

  @Test
  void aResumedEpochContinuesWithTheSameSamplesInTheSameOrder() {
    List<TrainSample> first;
    Cursor cursor;
    List<TrainSample> rest;
    try (ShuffledEpoch epoch = new ShuffledEpoch(reader(topics, s -> null), BLOCK, BUFFER, 32)) {
      epoch.startEpoch(3, 11);
      first = epoch.take(150);
      cursor = epoch.cursor();
      rest = drain(epoch);
    }
    assertThat(cursor.epoch()).isEqualTo(3);
    assertThat(cursor.position()).isGreaterThanOrEqualTo(150);
    List<TrainSample> resumed;
    // another buffer size configured now: the epoch in progress keeps the one it started with; and 3
    // readers fetching blocks in parallel instead of 1: the order is the plan's, whatever the timing
    try (ShuffledEpoch epoch = new ShuffledEpoch(List.of(reader(topics, s -> null), reader(topics, s -> null),
        reader(topics, s -> null)), 3, 5, 7)) {
      epoch.restore(cursor, 11);
      assertThat(epoch.epoch()).isEqualTo(3);
      resumed = drain(epoch);
      assertThat(epoch.cursor().blockSize()).isEqualTo(BLOCK);
    }
    assertThat(resumed.stream().map(TrainSample::ref).toList()).isEqualTo(rest.stream().map(TrainSample::ref).toList());
    assertThat(resumed.stream().map(TrainSample::sample).toList()).isEqualTo(rest.stream().map(TrainSample::sample).toList());
    Set<SampleRef> all = new HashSet<>();
    first.forEach(s -> all.add(s.ref()));
    resumed.forEach(s -> assertThat(all.add(s.ref())).as("trained twice: %s", s.ref()).isTrue());
    assertThat(all).hasSize(SAMPLES);
  }

  @Test
  void samplesPublishedDuringAnEpochJoinTheNextOneAndRejectedOnesAreCounted() throws Exception {
    Topics own = TestData.freshTopics("epoch-bound-it");
    List<Sample> initial = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      initial.add(TestData.synthetic("a" + i, 0, i));
    }
    TestData.publish(own.samplesTrain(), initial);
    try (ShuffledEpoch epoch = new ShuffledEpoch(reader(own, s -> s.getClassIndex() == 9 ? "class 9 not wanted" : null),
        BLOCK, 16, 8)) {
      assertThat(epoch.startEpoch(1, 1)).isEqualTo(50);
      List<TrainSample> part = epoch.take(10);
      List<Sample> late = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        late.add(TestData.synthetic("b" + i, i == 0 ? 9 : 1, i));
      }
      TestData.publish(own.samplesTrain(), late);
      assertThat(part.size() + drain(epoch).size()).isEqualTo(50);
      epoch.startEpoch(2, 1);
      List<TrainSample> second = drain(epoch);
      assertThat(second).hasSize(69); // 70 records, one rejected by the check
      assertThat(epoch.rejected()).isEqualTo(1);
    }
  }

  /**
   * Readers that decode into the pool's buffers, over two epochs: each buffer is used again once
   * its batch is assembled, and every batch still holds exactly its own samples' pixels.
   */
  @Test
  void pooledPixelBuffersAreUsedAgainWithoutMixingUpSamples() {
    List<List<TrainSample>> direct = new ArrayList<>();
    for (int e = 1; e <= 2; e++) {
      try (ShuffledEpoch epoch = new ShuffledEpoch(reader(topics, s -> null), BLOCK, BUFFER, 32)) {
        epoch.startEpoch(e, 5);
        direct.add(drain(epoch));
      }
    }
    BatchAssembler assembler = new BatchAssembler(new MeanImage(8, 8, new float[8 * 8 * 3]), 4, CLASSES);
    BatchAssembler reference = new BatchAssembler(new MeanImage(8, 8, new float[8 * 8 * 3]), 4, CLASSES);
    try (ShuffledEpoch epoch = new ShuffledEpoch(List.of(pooledReader(assembler.pixelBuffers()), pooledReader(assembler.pixelBuffers())),
        BLOCK, BUFFER, 32); BatchFeed feed = new BatchFeed(assembler, 50, 2)) {
      for (int e = 1; e <= 2; e++) {
        epoch.startEpoch(e, 5);
        feed.start(epoch);
        List<TrainSample> trained = new ArrayList<>();
        BatchFeed.Fed f;
        do {
          f = feed.next();
          int from = trained.size();
          trained.addAll(f.samples());
          List<Sample> expected = direct.get(e - 1).subList(from, trained.size()).stream().map(TrainSample::sample).toList();
          if (f.batch() != null) {
            assertThat(f.batch().features()).as("epoch %d, batch at %d", e, from).containsExactly(reference.features(expected));
          }
        } while (!f.epochOver());
        assertThat(trained.stream().map(TrainSample::ref).toList()).isEqualTo(direct.get(e - 1).stream().map(TrainSample::ref).toList());
      }
    }
    // the second epoch decoded into the buffers the first gave back: more reuses than one epoch's
    // samples, and never more buffers than were in flight at once
    int epochSize = direct.get(0).size();
    assertThat(assembler.pixelBuffers().reused()).isGreaterThan(epochSize);
    assertThat(assembler.pixelBuffers().size()).isLessThan(epochSize);
  }

  private BlockReader pooledReader(PixelBuffers pool) {
    Map<String, Object> props = new HashMap<>(BlockReader.consumerSettings(BLOCK * 200));
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, TestData.bootstrap());
    KafkaConsumer<String, Sample> consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ReusingSampleDeserializer(pool));
    consumers.add(consumer);
    return new BlockReader(consumer, topics.samplesTrain(), s -> null);
  }

  @Test
  void theFeedHandsOutTheEpochInAssembledBatchesEachWithTheCursorAfterIt() {
    List<TrainSample> direct;
    try (ShuffledEpoch epoch = new ShuffledEpoch(reader(topics, s -> null), BLOCK, BUFFER, 32)) {
      epoch.startEpoch(4, 5);
      direct = drain(epoch);
    }
    BatchAssembler assembler = new BatchAssembler(new MeanImage(8, 8, new float[8 * 8 * 3]), 4, CLASSES);
    List<BatchFeed.Fed> fed = new ArrayList<>();
    try (ShuffledEpoch epoch = new ShuffledEpoch(reader(topics, s -> null), BLOCK, BUFFER, 32);
         BatchFeed feed = new BatchFeed(assembler, 50, 2)) {
      epoch.startEpoch(4, 5);
      feed.start(epoch);
      BatchFeed.Fed f;
      do {
        f = feed.next();
        fed.add(f);
      } while (!f.epochOver());
    }
    // 480 samples: 9 batches of 50, then the short last one that ends the epoch
    assertThat(fed).hasSize(10);
    assertThat(fed.subList(0, 9)).allSatisfy(f -> assertThat(f.samples()).hasSize(50));
    assertThat(fed.get(9).samples()).hasSize(30);
    assertThat(fed.stream().flatMap(f -> f.samples().stream()).map(TrainSample::ref).toList())
        .isEqualTo(direct.stream().map(TrainSample::ref).toList());
    // each batch holds the pixels of its samples, as read on their own by the epoch above (the
    // feed gives its samples' pixel buffers back to the pool once assembled, and clears them)
    BatchAssembler reference = new BatchAssembler(new MeanImage(8, 8, new float[8 * 8 * 3]), 4, CLASSES);
    for (int b = 0; b < fed.size(); b++) {
      List<Sample> samples = direct.subList(50 * b, Math.min(direct.size(), 50 * b + 50)).stream().map(TrainSample::sample).toList();
      assertThat(fed.get(b).batch().features()).containsExactly(reference.features(samples));
      assertThat(fed.get(b).batch().labels()).containsExactly(samples.stream().mapToInt(Sample::getClassIndex).toArray());
      assertThat(fed.get(b).samples()).allSatisfy(t -> assertThat(t.sample().getPixels()).isNull());
    }
    assertThat(assembler.pixelBuffers().size()).as("every sample's buffer back in the pool").isEqualTo(direct.size());
    // the cursor after batch 4 (200 samples) resumes with sample 201, whatever the feed read ahead
    try (ShuffledEpoch epoch = new ShuffledEpoch(reader(topics, s -> null), BLOCK, BUFFER, 32)) {
      epoch.restore(fed.get(3).after(), 5);
      assertThat(drain(epoch).stream().map(TrainSample::ref).toList())
          .isEqualTo(direct.subList(200, direct.size()).stream().map(TrainSample::ref).toList());
    }
  }
}
