package org.alexkafka.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.alexkafka.schemas.Sample;
import org.alexkafka.schemas.serde.RecordSerdes;
import org.alexkafka.schemas.topics.Topics;
import org.alexkafka.trainer.support.TestData;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The shuffle buffer and epoch reading against a class-sorted topic on the real broker. */
class ShuffledEpochIT {

  private static final int CLASSES = 10;
  private static final int PER_CLASS = 40;
  private static Topics topics;

  @BeforeAll
  static void publishClassSortedTopic() throws Exception {
    topics = TestData.freshTopics("shuffle-it");
    List<Sample> sorted = new ArrayList<>();
    for (int c = 0; c < CLASSES; c++) {
      for (int i = 0; i < PER_CLASS; i++) {
        sorted.add(TestData.synthetic("c" + c + "-" + i, c, i));
      }
    }
    TestData.publish(topics.samplesTrain(), sorted);
  }

  private static EpochReader reader() {
    return new EpochReader(new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, TestData.bootstrap(),
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false), new StringDeserializer(), RecordSerdes.sample()),
        topics.samplesTrain(), s -> null);
  }

  private static List<TrainSample> drain(ShuffledEpoch epoch) {
    List<TrainSample> out = new ArrayList<>();
    TrainSample s;
    while ((s = epoch.next()) != null) {
      out.add(s);
    }
    return out;
  }

  private static long classesIn(List<TrainSample> batch) {
    return batch.stream().map(s -> s.sample().getClassIndex()).distinct().count();
  }

  @Test
  void aBufferMixesAClassSortedTopicAndEverySampleComesOncePerEpoch() {
    try (EpochReader unshuffledReader = reader(); EpochReader shuffledReader = reader()) {
      ShuffledEpoch unshuffled = new ShuffledEpoch(unshuffledReader, 1);
      unshuffled.startEpoch(1, 7);
      List<TrainSample> inOrder = drain(unshuffled);

      ShuffledEpoch shuffled = new ShuffledEpoch(shuffledReader, 200);
      shuffled.startEpoch(1, 7);
      List<TrainSample> mixed = drain(shuffled);

      assertThat(inOrder).hasSize(CLASSES * PER_CLASS);
      assertThat(mixed).hasSize(CLASSES * PER_CLASS);
      assertThat(mixed.stream().map(TrainSample::ref).distinct().count()).isEqualTo(CLASSES * PER_CLASS);
      assertThat(new HashSet<>(mixed.stream().map(TrainSample::ref).toList()))
          .isEqualTo(new HashSet<>(inOrder.stream().map(TrainSample::ref).toList()));
      // without a buffer the first batch of 32 holds the first classes only; with one it is mixed
      assertThat(classesIn(inOrder.subList(0, 32))).isLessThanOrEqualTo(3);
      assertThat(classesIn(mixed.subList(0, 32))).isGreaterThanOrEqualTo(5);
    }
  }

  @Test
  void aResumedEpochContinuesWithTheSameSamplesInTheSameOrder() {
    List<TrainSample> first;
    Cursor cursor;
    List<TrainSample> rest;
    try (EpochReader r = reader()) {
      ShuffledEpoch epoch = new ShuffledEpoch(r, 100);
      epoch.startEpoch(3, 11);
      first = epoch.take(150);
      cursor = epoch.cursor();
      rest = drain(epoch);
    }
    assertThat(cursor.buffered()).hasSize(99); // refilled to 100, then one taken
    List<TrainSample> resumed;
    try (EpochReader r = reader()) {
      ShuffledEpoch epoch = new ShuffledEpoch(r, 100);
      epoch.restore(cursor);
      assertThat(epoch.epoch()).isEqualTo(3);
      resumed = drain(epoch);
    }
    assertThat(resumed.stream().map(TrainSample::ref).toList()).isEqualTo(rest.stream().map(TrainSample::ref).toList());
    assertThat(resumed.get(0).sample()).isEqualTo(rest.get(0).sample());
    Set<SampleRef> all = new HashSet<>();
    first.forEach(s -> all.add(s.ref()));
    resumed.forEach(s -> assertThat(all.add(s.ref())).as("trained twice: %s", s.ref()).isTrue());
    assertThat(all).hasSize(CLASSES * PER_CLASS);
  }

  @Test
  void samplesPublishedDuringAnEpochJoinTheNextOne() throws Exception {
    Topics own = TestData.freshTopics("epoch-bound-it");
    List<Sample> initial = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      initial.add(TestData.synthetic("a" + i, 0, i));
    }
    TestData.publish(own.samplesTrain(), initial);
    try (EpochReader r = new EpochReader(new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, TestData.bootstrap()), new StringDeserializer(), RecordSerdes.sample()),
        own.samplesTrain(), s -> s.getClassIndex() == 9 ? "class 9 not wanted" : null)) {
      ShuffledEpoch epoch = new ShuffledEpoch(r, 16);
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
      assertThat(r.rejected()).isEqualTo(1);
    }
  }
}
