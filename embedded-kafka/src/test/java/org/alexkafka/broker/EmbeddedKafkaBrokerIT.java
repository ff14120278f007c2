package org.alexkafka.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.alexkafka.schemas.Image;
import org.alexkafka.schemas.Split;
import org.alexkafka.schemas.serde.RecordSerdes;
import org.alexkafka.schemas.topics.TopicSpec;
import org.alexkafka.schemas.topics.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedKafkaBrokerIT {

  private static Image image(String id, byte[] pixels) {
    return Image.newBuilder().setId(id).setLabel("n01440764").setSplit(Split.TRAIN).setSource("test")
        .setOriginalWidth(256).setOriginalHeight(256).setPixels(ByteBuffer.wrap(pixels))
        .setIngestedAt(Instant.now()).build();
  }

  private static KafkaConsumer<String, Image> imageConsumer(String bootstrap) {
    return new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
        new StringDeserializer(), RecordSerdes.image());
  }

  private static void assignAll(KafkaConsumer<String, Image> consumer, String topic) {
    consumer.assign(consumer.partitionsFor(topic).stream().map(p -> new TopicPartition(topic, p.partition())).toList());
    consumer.seekToBeginning(consumer.assignment());
  }

  private static List<ConsumerRecord<String, Image>> readAll(KafkaConsumer<String, Image> consumer, int expected) {
    List<ConsumerRecord<String, Image>> got = new ArrayList<>();
    long deadline = System.currentTimeMillis() + 30_000;
    while (got.size() < expected && System.currentTimeMillis() < deadline) {
      consumer.poll(Duration.ofMillis(200)).forEach(got::add);
    }
    return got;
  }

  @Test
  void createsTheRegisteredTopicsAndCarriesAFullSizeImageThroughTheSerdes() throws Exception {
    EmbeddedKafkaBroker broker = SharedKafka.broker();
    Topics topics = SharedKafka.freshTopics("broker-it");
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
      List<String> created = topics.createAll(admin, (short) 1);
      assertThat(created).containsExactlyInAnyOrderElementsOf(topics.all().stream().map(TopicSpec::name).toList());
      assertThat(topics.createAll(admin, (short) 1)).as("second run is a no-op").isEmpty();

      Map<String, TopicDescription> described = admin.describeTopics(List.of(topics.samplesTrain(), topics.stats()))
          .allTopicNames().get();
      assertThat(described.get(topics.samplesTrain()).partitions()).hasSize(topics.spec(topics.samplesTrain()).partitions());
      ConfigResource statsResource = new ConfigResource(ConfigResource.Type.TOPIC, topics.stats());
      var statsConfig = admin.describeConfigs(Set.of(statsResource)).all().get().get(statsResource);
      assertThat(statsConfig.get("cleanup.policy").value()).isEqualTo("compact");
    }

    byte[] pixels = new byte[256 * 256 * 3];
    new Random(7).nextBytes(pixels);
    Image sent = image("img-1", pixels);
    try (KafkaProducer<String, Image> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
        ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), RecordSerdes.image())) {
      producer.send(new ProducerRecord<>(topics.images(), sent.getId(), sent)).get();
    }
    try (KafkaConsumer<String, Image> consumer = imageConsumer(broker.bootstrapServers())) {
      assignAll(consumer, topics.images());
      List<ConsumerRecord<String, Image>> got = readAll(consumer, 1);
      assertThat(got).hasSize(1);
      assertThat(got.get(0).key()).isEqualTo("img-1");
      assertThat(got.get(0).value()).isEqualTo(sent);
      assertThat(got.get(0).value().getPixels().remaining()).isEqualTo(256 * 256 * 3);
    }
  }

  @Test
  void aPoisonRecordFailsWithTopicPartitionAndOffset() throws Exception {
    EmbeddedKafkaBroker broker = SharedKafka.broker();
    Topics topics = SharedKafka.freshTopics("poison-it");
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
      topics.createAll(admin, (short) 1);
    }
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()), new StringSerializer(), new ByteArraySerializer())) {
      producer.send(new ProducerRecord<>(topics.images(), 0, "bad", "not avro at all".getBytes())).get();
    }
    try (KafkaConsumer<String, Image> consumer = imageConsumer(broker.bootstrapServers())) {
      consumer.assign(List.of(new TopicPartition(topics.images(), 0)));
      consumer.seekToBeginning(consumer.assignment());
      assertThatThrownBy(() -> {
        for (int i = 0; i < 50; i++) {
          consumer.poll(Duration.ofMillis(200));
        }
      }).isInstanceOfSatisfying(RecordDeserializationException.class, e -> {
        assertThat(e.topicPartition()).isEqualTo(new TopicPartition(topics.images(), 0));
        assertThat(e.offset()).isZero();
        assertThat(e.getMessage()).contains(topics.images() + "-0").contains("offset 0");
        assertThat(e.getCause().getMessage()).contains("not a known Image record");
      });
    }
  }

  @Test
  void dataInAGivenLogDirSurvivesARestart(@TempDir Path dir) throws Exception {
    Topics topics = new Topics("restart.");
    Image sent = image("kept", new byte[256 * 256 * 3]);
    String firstAddress;
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(dir)) {
      firstAddress = broker.bootstrapServers();
      try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
        topics.createAll(admin, (short) 1);
      }
      try (KafkaProducer<String, Image> producer = new KafkaProducer<>(Map.of(
          ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()), new StringSerializer(), RecordSerdes.image())) {
        producer.send(new ProducerRecord<>(topics.images(), sent.getId(), sent)).get();
      }
    }
    assertThat(Files.list(dir)).isNotEmpty();
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(dir);
         KafkaConsumer<String, Image> consumer = imageConsumer(broker.bootstrapServers())) {
      assertThat(broker.bootstrapServers()).as("a restart keeps the address").isEqualTo(firstAddress);
      assignAll(consumer, topics.images());
      List<ConsumerRecord<String, Image>> got = readAll(consumer, 1);
      assertThat(got).extracting(ConsumerRecord::value).containsExactly(sent);
    }
  }
}
