package org.alexkafka.augment;

import org.alexkafka.augment.testing.CommittedRecords;

import static org.alexkafka.augment.testing.TestImages.image;
import static org.alexkafka.augment.testing.TestImages.randomPixels;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.alexkafka.augment.testing.HostileRecords;
import org.alexkafka.augment.testing.TestImages;
import org.alexkafka.broker.EmbeddedKafkaBroker;
import org.alexkafka.broker.SharedKafka;
import org.alexkafka.schemas.Image;
import org.alexkafka.schemas.Rejection;
import org.alexkafka.schemas.Sample;
import org.alexkafka.schemas.Split;
import org.alexkafka.schemas.Stats;
import org.alexkafka.schemas.config.KafkaConnection;
import org.alexkafka.schemas.serde.AvroSerde;
import org.alexkafka.schemas.serde.RecordSerdes;
import org.alexkafka.schemas.topics.Topics;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile records on every topic the augment app reads, on the real broker with a real Streams app
 * (exactly_once_v2): images (decoded by the topology), labels (a global table: Streams'
 * deserialization handler) and the statistics repartition topic (the deserialization handler, and
 * the processing exception handler for a record that decodes but cannot be merged). Each is one
 * dead letter; the app stays RUNNING; the good images give exactly their samples and statistics.
 */
class AugmentHostileInputIT {

  private static final int SIZE = 64;
  private static final int CROP = 56;
  private static final int K = 2;

  @TempDir
  Path stateDir;

  private final EmbeddedKafkaBroker broker = SharedKafka.broker();

  @Test
  void everyHostileRecordIsOneDeadLetterTheAppKeepsRunningAndTheGoodCountsAreExact() throws Exception {
    Topics topics = SharedKafka.freshTopics("augment-hostile-it");
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
      topics.createAll(admin, (short) 1);
    }
    List<Image> goodTrain = List.of(
        image("train-a", "n1", Split.TRAIN, SIZE, randomPixels(SIZE, 1)),
        image("train-b", "n2", Split.TRAIN, SIZE, randomPixels(SIZE, 2)),
        image("train-c", "n1", Split.TRAIN, SIZE, randomPixels(SIZE, 3)));
    List<Image> goodVal = List.of(
        image("val-a", "n1", Split.VAL, SIZE, randomPixels(SIZE, 4)),
        image("val-b", "n2", Split.VAL, SIZE, randomPixels(SIZE, 5)));
    Image template = image("template", "n1", Split.TRAIN, SIZE, randomPixels(SIZE, 6));
    Image wide = image("wide", "n1", Split.TRAIN, SIZE, new byte[SIZE * 32 * 3]);
    wide.setHeight(32);

    try (KafkaProducer<String, byte[]> producer = producer()) {
      send(producer, topics.labels(), "n1", RecordSerdes.labelEntry(), TestImages.label("n1", 0));
      send(producer, topics.labels(), "n2", RecordSerdes.labelEntry(), TestImages.label("n2", 1));
      send(producer, topics.labels(), "neg", RecordSerdes.labelEntry(), TestImages.label("neg", -1));
      for (Image i : goodTrain) {
        send(producer, topics.images(), i.getId(), RecordSerdes.image(), i);
      }
      for (Image i : goodVal) {
        send(producer, topics.images(), i.getId(), RecordSerdes.image(), i);
      }
      raw(producer, topics.images(), "garbage", HostileRecords.garbage());
      raw(producer, topics.images(), "truncated", HostileRecords.truncated(template));
      raw(producer, topics.images(), "unknown-fingerprint", HostileRecords.unknownFingerprint(template));
      raw(producer, topics.images(), "future", HostileRecords.fromTheFuture(template));
      raw(producer, topics.images(), "huge", HostileRecords.claimingHugePixels(template));
      send(producer, topics.images(), "short", RecordSerdes.image(),
          image("short", "n1", Split.VAL, SIZE, new byte[SIZE * SIZE * 3 - 3]));
      send(producer, topics.images(), "wide", RecordSerdes.image(), wide);
      send(producer, topics.images(), "negative", RecordSerdes.image(),
          image("negative", "neg", Split.TRAIN, SIZE, randomPixels(SIZE, 7)));
    }

    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    AugmentConfig config = AugmentConfig.defaults(new KafkaConnection(broker.bootstrapServers(), topics), stateDir)
        .withApplicationId(topics.prefix() + "augment").withVariants(K).withCropSize(CROP)
        .withIntervals(Duration.ofMillis(200), Duration.ofMillis(500), Duration.ofSeconds(10));
    String repartition = config.applicationId() + "-stats-partials-repartition";
    try (AugmentService service = new AugmentService(config, registry)) {
      service.start();
      service.awaitRunning(Duration.ofSeconds(60));
      read(topics.samplesTrain(), RecordSerdes.sample(), l -> l.size() >= 3 * K, 60);

      byte[] unknownLabel = RecordSerdes.labelEntry().serialize(topics.labels(), TestImages.label("n9", 9));
      unknownLabel[4] ^= 0x11;
      Stats badSums = Stats.newBuilder().setCount(1).setWidth(SIZE).setHeight(SIZE).setPixelSums(List.of(1L, 2L, 3L, 4L, 5L))
          .setChannelSums(List.of(1L, 2L, 3L)).setChannelProducts(List.of(1L, 2L, 3L, 4L, 5L, 6L))
          .setUpdatedAt(Instant.ofEpochMilli(1)).build();
      try (KafkaProducer<String, byte[]> producer = producer()) {
        raw(producer, topics.labels(), "n7", "not an avro label".getBytes(StandardCharsets.UTF_8));
        raw(producer, topics.labels(), "n9", unknownLabel);
        raw(producer, repartition, "evil-garbage", HostileRecords.garbage());
        send(producer, repartition, "evil-sums", RecordSerdes.stats(), badSums);
        // and the app still augments what comes after
        send(producer, topics.images(), "train-late", RecordSerdes.image(),
            image("train-late", "n2", Split.TRAIN, SIZE, randomPixels(SIZE, 8)));
      }

      List<ConsumerRecord<String, Sample>> train = read(topics.samplesTrain(), RecordSerdes.sample(), l -> l.size() >= 4 * K, 60);
      List<ConsumerRecord<String, Sample>> val = read(topics.samplesVal(), RecordSerdes.sample(), l -> l.size() >= 20, 30);
      List<ConsumerRecord<String, Rejection>> rejected = read(topics.imagesRejected(), RecordSerdes.rejection(),
          l -> l.size() >= 12, 60);
      List<ConsumerRecord<String, Stats>> stats = read(topics.stats(), RecordSerdes.stats(),
          l -> !l.isEmpty() && l.get(l.size() - 1).value().getCount() == 4, 30);

      assertThat(train).hasSize(4 * K);
      assertThat(train.stream().collect(Collectors.groupingBy(r -> r.value().getImageId().toString(), Collectors.counting())))
          .isEqualTo(Map.of("train-a", (long) K, "train-b", (long) K, "train-c", (long) K, "train-late", (long) K));
      assertThat(val).hasSize(20);
      assertThat(val.stream().collect(Collectors.groupingBy(r -> r.value().getImageId().toString(), Collectors.counting())))
          .isEqualTo(Map.of("val-a", 10L, "val-b", 10L));
      assertThat(stats.get(stats.size() - 1).value().getCount()).isEqualTo(4);

      List<Rejection> letters = rejected.stream().map(ConsumerRecord::value).toList();
      assertThat(letters).hasSize(12).allMatch(r -> r.getStage().equals("augment"));
      assertThat(letters.stream().collect(Collectors.groupingBy(r -> r.getReason().toString(), Collectors.counting())))
          .isEqualTo(Map.of("poison-record", 5L, "unknown-schema", 3L, "wrong-pixel-length", 1L, "wrong-size", 1L,
              "invalid-label", 1L, "processing-error", 1L));
      assertThat(bySourcePrefix(letters, topics.images() + "-")).hasSize(8);
      assertThat(bySourcePrefix(letters, topics.labels() + "-0@")).extracting(r -> r.getReason().toString())
          .containsExactlyInAnyOrder("poison-record", "unknown-schema");
      assertThat(bySourcePrefix(letters, repartition + "-0@")).extracting(r -> r.getReason().toString())
          .containsExactlyInAnyOrder("poison-record", "processing-error");
      Rejection merge = letters.stream().filter(r -> r.getReason().equals("processing-error")).findFirst().orElseThrow();
      assertThat(merge.getDetail()).contains("merge-stats").contains("5 pixel sums");
      assertThat(merge.getPayload()).isEqualTo(ByteBuffer.wrap(RecordSerdes.stats().serialize(repartition, badSums)));
      Rejection label = bySourcePrefix(letters, topics.labels() + "-0@").stream()
          .filter(r -> r.getReason().equals("unknown-schema")).findFirst().orElseThrow();
      assertThat(label.getDetail()).contains(String.format("fingerprint %016x", HostileRecords.fingerprintOf(unknownLabel)));

      assertThat(registry.get("augment.samples").tag("topic", topics.samplesTrain()).counter().count()).isEqualTo(4 * K);
      assertThat(registry.get("augment.samples").tag("topic", topics.samplesVal()).counter().count()).isEqualTo(20);
      assertThat(registry.get("augment.stats.images").counter().count()).isEqualTo(4);
      assertThat(service.state()).isEqualTo(KafkaStreams.State.RUNNING);
    }
  }

  private static List<Rejection> bySourcePrefix(List<Rejection> letters, String prefix) {
    return letters.stream().filter(r -> r.getSource().toString().startsWith(prefix)).toList();
  }

  private KafkaProducer<String, byte[]> producer() {
    return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
        ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.IMAGE_MAX_MESSAGE_BYTES),
        new StringSerializer(), new ByteArraySerializer());
  }

  private static void raw(KafkaProducer<String, byte[]> producer, String topic, String key, byte[] value) throws Exception {
    producer.send(new ProducerRecord<>(topic, key, value)).get();
  }

  private static <T extends SpecificRecord> void send(KafkaProducer<String, byte[]> producer, String topic, String key,
      AvroSerde<T> serde, T value) throws Exception {
    raw(producer, topic, key, serde.serialize(topic, value));
  }

  private <T extends SpecificRecord> List<ConsumerRecord<String, T>> read(String topic, AvroSerde<T> serde,
      Predicate<List<ConsumerRecord<String, T>>> done, int timeoutSeconds) {
    return CommittedRecords.read(broker.bootstrapServers(), topic, serde, done, timeoutSeconds);
  }
}
