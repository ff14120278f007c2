package org.alexkafka.augment;

import org.alexkafka.augment.testing.CommittedRecords;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import org.alexkafka.augment.photos.PhotoImages;
import org.alexkafka.augment.photos.PhotoImages.Photo;
import org.alexkafka.augment.render.RenderSamples;
import org.alexkafka.augment.stats.StatsAccumulator;
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
import org.alexkafka.schemas.topics.SamplePartitioning;
import org.alexkafka.schemas.topics.Topics;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The augment app on the real embedded broker, with real photos from testdata. */
class AugmentServiceIT {

  @TempDir
  Path stateDir;

  private final EmbeddedKafkaBroker broker = SharedKafka.broker();

  @Test
  void realPhotosInSamplesAndStatsOutCountsExact() throws Exception {
    Topics topics = SharedKafka.freshTopics("augment-it");
    int size = 64, crop = 56, k = 3;
    Path data = PhotoImages.findSharedData().resolve("imagenette-mini");
    List<Photo> trainPhotos = PhotoImages.photos(data.resolve("train"), 3).stream()
        .filter(p -> Set.of("n01440764", "n02102040", "n03888257").contains(p.classId())).toList();
    List<Photo> valPhotos = PhotoImages.photos(data.resolve("val"), 1).stream()
        .filter(p -> Set.of("n01440764", "n02102040", "n03888257").contains(p.classId())).toList();
    assertThat(trainPhotos).hasSize(9);
    assertThat(valPhotos).hasSize(3);
    List<Image> train = trainPhotos.stream().map(p -> PhotoImages.image(p, Split.TRAIN, size)).toList();
    List<Image> val = valPhotos.stream().map(p -> PhotoImages.image(p, Split.VAL, size)).toList();

    createTopics(topics);
    try (KafkaProducer<String, byte[]> producer = producer()) {
      List<String> classes = List.of("n01440764", "n02102040", "n03888257");
      for (int i = 0; i < classes.size(); i++) {
        send(producer, topics.labels(), classes.get(i), RecordSerdes.labelEntry(), TestImages.label(classes.get(i), i));
      }
      for (Image image : train) {
        send(producer, topics.images(), image.getId(), RecordSerdes.image(), image);
      }
      for (Image image : val) {
        send(producer, topics.images(), image.getId(), RecordSerdes.image(), image);
      }
      send(producer, topics.images(), train.get(4).getId(), RecordSerdes.image(), train.get(4)); // a replay
      producer.send(new ProducerRecord<>(topics.images(), "poison", "definitely not avro".getBytes())).get();
    }

    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    AugmentConfig config = AugmentConfig.defaults(new KafkaConnection(broker.bootstrapServers(), topics), stateDir)
        .withApplicationId(topics.prefix() + "augment").withVariants(k).withCropSize(crop)
        .withIntervals(Duration.ofMillis(200), Duration.ofMillis(500), Duration.ofSeconds(10));
    assertThat(config.processingGuarantee()).isEqualTo(ProcessingGuarantee.EXACTLY_ONCE_V2);
    try (AugmentService service = new AugmentService(config, registry)) {
      service.start();
      List<ConsumerRecord<String, Sample>> samples = read(topics.samplesTrain(), RecordSerdes.sample(), l -> l.size() >= 30, 30);
      List<ConsumerRecord<String, Sample>> views = read(topics.samplesVal(), RecordSerdes.sample(), l -> l.size() >= 30, 30);
      List<ConsumerRecord<String, Rejection>> rejected = read(topics.imagesRejected(), RecordSerdes.rejection(), l -> !l.isEmpty(), 30);
      StatsAccumulator direct = new StatsAccumulator(size, size);
      for (Image image : train) {
        direct.add(image.getPixels().array(), 0);
      }
      List<ConsumerRecord<String, Stats>> stats = read(topics.stats(), RecordSerdes.stats(),
          l -> !l.isEmpty() && l.get(l.size() - 1).value().getCount() == 9, 30);

      assertThat(samples).hasSize(30); // 9 images × 3 variants, plus the replay's 3 (identical)
      Map<String, List<Sample>> byKey = samples.stream().collect(Collectors.groupingBy(ConsumerRecord::key,
          Collectors.mapping(ConsumerRecord::value, Collectors.toList())));
      assertThat(byKey).hasSize(27);
      byKey.get(train.get(4).getId() + "#1").forEach(s -> assertThat(s).isEqualTo(byKey.get(train.get(4).getId() + "#1").get(0)));
      assertThat(samples).allSatisfy(r -> {
        assertThat(r.value().getPixels().remaining()).isEqualTo(crop * crop * 3);
        assertThat(r.value().getCropX()).isBetween(0, size - crop - 1);
      });
      // The variants of one image sit in distinct partitions: variant v in (hash(id) + v) mod P.
      assertThat(samples).allSatisfy(r -> assertThat(r.partition())
          .isEqualTo(SamplePartitioning.partitionOf(r.value().getImageId(), r.value().getVariant(), 8)));
      assertThat(samples.stream().collect(Collectors.groupingBy(r -> r.value().getImageId(),
          Collectors.mapping(ConsumerRecord::partition, Collectors.toSet()))).values()).allSatisfy(ps -> assertThat(ps).hasSize(k));
      // One class spreads over several partitions of samples.train.
      assertThat(samples.stream().filter(r -> r.value().getLabel().equals("n01440764")).map(ConsumerRecord::partition)
          .distinct().count()).isGreaterThan(1);
      assertThat(views).hasSize(30);
      assertThat(views.stream().collect(Collectors.groupingBy(ConsumerRecord::key, Collectors.counting())).values())
          .containsOnly(10L);
      assertThat(rejected).hasSize(1);
      assertThat(rejected.get(0).value().getReason()).isEqualTo("poison-record");

      Stats last = stats.get(stats.size() - 1).value();
      assertThat(last.getCount()).isEqualTo(9);
      assertThat(StatsAccumulator.fromStats(last).toBytes()).containsExactly(direct.toBytes());
      assertThat(last.getEigenvalues()).hasSize(3);
      assertThat(stats.get(stats.size() - 1).key()).isEqualTo("train");
      assertThat(registry.get("augment.samples").tag("topic", topics.samplesTrain()).counter().count()).isEqualTo(30);
      assertThat(registry.get("augment.records.rejected").tag("reason", "poison-record").counter().count()).isEqualTo(1);
      assertThat(registry.get("augment.stats.images").counter().count()).isEqualTo(9);
    }

    // What the trainer will see, as PNGs: the render command on the same topics.
    Path renderDir = stateDir.resolve("render");
    int exit = new CommandLine(new RenderSamples()).execute("--bootstrap-servers", broker.bootstrapServers(),
        "--topic-prefix", topics.prefix(), "--count", "4", "--out", renderDir.toString(), "--scale", "2");
    assertThat(exit).isZero();
    try (var files = Files.list(renderDir)) {
      List<Path> pngs = files.sorted().toList();
      assertThat(pngs).hasSize(5).anyMatch(p -> p.getFileName().toString().equals("contact-sheet.png"));
      BufferedImage one = ImageIO.read(pngs.stream().filter(p -> !p.getFileName().toString().startsWith("contact")).findFirst()
          .orElseThrow().toFile());
      assertThat(one.getWidth()).isEqualTo(crop);
      assertThat(one.getHeight()).isEqualTo(crop);
    }
  }

  @Test
  void fullSizePhotoGivesPaperShapedSamples() throws Exception {
    Topics topics = SharedKafka.freshTopics("augment-full-it");
    Path data = PhotoImages.findSharedData().resolve("imagenet-val-100");
    List<Photo> photos = PhotoImages.photos(data, 1).subList(0, 2);
    Image train = PhotoImages.image(photos.get(0), Split.TRAIN, 256);
    Image val = PhotoImages.image(photos.get(1), Split.VAL, 256);
    createTopics(topics);
    try (KafkaProducer<String, byte[]> producer = producer()) {
      send(producer, topics.labels(), train.getLabel(), RecordSerdes.labelEntry(), TestImages.label(train.getLabel(), 0));
      send(producer, topics.labels(), val.getLabel(), RecordSerdes.labelEntry(), TestImages.label(val.getLabel(), 1));
      send(producer, topics.images(), train.getId(), RecordSerdes.image(), train);
      send(producer, topics.images(), val.getId(), RecordSerdes.image(), val);
    }
    AugmentConfig config = AugmentConfig.defaults(new KafkaConnection(broker.bootstrapServers(), topics), stateDir)
        .withApplicationId(topics.prefix() + "augment").withVariants(2)
        .withIntervals(Duration.ofMillis(200), Duration.ofMillis(500), Duration.ofSeconds(10));
    try (AugmentService service = new AugmentService(config, new SimpleMeterRegistry())) {
      service.start();
      List<ConsumerRecord<String, Sample>> samples = read(topics.samplesTrain(), RecordSerdes.sample(), l -> l.size() >= 2, 30);
      List<ConsumerRecord<String, Sample>> views = read(topics.samplesVal(), RecordSerdes.sample(), l -> l.size() >= 10, 30);
      List<ConsumerRecord<String, Stats>> stats = read(topics.stats(), RecordSerdes.stats(), l -> !l.isEmpty(), 30);
      assertThat(samples).hasSize(2).allSatisfy(r -> {
        assertThat(r.value().getCropSize()).isEqualTo(224);
        assertThat(r.value().getImageSize()).isEqualTo(256);
        assertThat(r.value().getPixels().remaining()).isEqualTo(224 * 224 * 3);
      });
      assertThat(views).hasSize(10);
      Sample centre = views.stream().map(ConsumerRecord::value).filter(s -> s.getVariant() == 0).findFirst().orElseThrow();
      assertThat(centre.getCropX()).isEqualTo(16);
      assertThat(centre.getCropY()).isEqualTo(16);
      Stats last = stats.get(stats.size() - 1).value();
      assertThat(last.getCount()).isEqualTo(1);
      assertThat(last.getPixelSums()).hasSize(256 * 256 * 3);
      assertThat(last.getPixelSums().get(3)).isEqualTo(train.getPixels().array()[3] & 0xff);
    }
  }

  @Test
  void aReplayAfterARestartFromTheChangelogsIsNotCountedTwice() throws Exception {
    Topics topics = SharedKafka.freshTopics("augment-restart-it");
    int size = 64;
    List<Image> photos = PhotoImages.photos(PhotoImages.findSharedData().resolve("imagenette-mini").resolve("val"), 1)
        .subList(0, 5).stream().map(p -> PhotoImages.image(p, Split.TRAIN, size)).toList();
    createTopics(topics);
    AugmentConfig config = AugmentConfig.defaults(new KafkaConnection(broker.bootstrapServers(), topics), stateDir.resolve("first"))
        .withApplicationId(topics.prefix() + "augment").withVariants(1).withCropSize(56).withInstanceId("augment-host-1")
        .withIntervals(Duration.ofMillis(200), Duration.ofMillis(500), Duration.ofSeconds(10));
    try (KafkaProducer<String, byte[]> producer = producer()) {
      for (Image image : photos) {
        send(producer, topics.labels(), image.getLabel(), RecordSerdes.labelEntry(), TestImages.label(image.getLabel(), 0));
      }
      for (Image image : photos.subList(0, 4)) {
        send(producer, topics.images(), image.getId(), RecordSerdes.image(), image);
      }
    }
    try (AugmentService service = new AugmentService(config, new SimpleMeterRegistry())) {
      service.start();
      read(topics.stats(), RecordSerdes.stats(), l -> !l.isEmpty() && l.get(l.size() - 1).value().getCount() == 4, 30);
    }
    try (KafkaProducer<String, byte[]> producer = producer()) {
      send(producer, topics.images(), photos.get(0).getId(), RecordSerdes.image(), photos.get(0)); // replays
      send(producer, topics.images(), photos.get(1).getId(), RecordSerdes.image(), photos.get(1));
      send(producer, topics.images(), photos.get(4).getId(), RecordSerdes.image(), photos.get(4)); // new
    }
    // A new, empty state directory: the seen ids and sums must come back from the changelogs.
    AugmentConfig restarted = config.withStateDir(stateDir.resolve("second"));
    try (AugmentService service = new AugmentService(restarted, new SimpleMeterRegistry())) {
      service.start();
      List<ConsumerRecord<String, Sample>> samples = read(topics.samplesTrain(), RecordSerdes.sample(), l -> l.size() >= 7, 30);
      List<ConsumerRecord<String, Stats>> stats = read(topics.stats(), RecordSerdes.stats(),
          l -> !l.isEmpty() && l.get(l.size() - 1).value().getCount() >= 5, 30);
      Thread.sleep(1500); // give a wrong extra count time to show up
      stats = read(topics.stats(), RecordSerdes.stats(), l -> false, 2);
      StatsAccumulator direct = new StatsAccumulator(size, size);
      photos.forEach(p -> direct.add(p.getPixels().array(), 0));
      assertThat(samples).hasSize(7);
      Stats last = stats.get(stats.size() - 1).value();
      assertThat(last.getCount()).isEqualTo(5);
      assertThat(StatsAccumulator.fromStats(last).toBytes()).containsExactly(direct.toBytes());
    }
  }

  /**
   * A poison label arriving while the app runs is dead-lettered by the deserialization handler; one
   * already in the topic at start-up is loaded into the global table unread (Streams restores global
   * stores as bytes), so the image that needs it is rejected as having an unreadable label.
   */
  @Test
  void poisonLabelsAreDeadLetteredAndTheOtherLabelsStillWork() throws Exception {
    Topics topics = SharedKafka.freshTopics("augment-poison-label-it");
    List<Photo> photos = PhotoImages.photos(PhotoImages.findSharedData().resolve("imagenette-mini").resolve("val"), 1);
    Image good = PhotoImages.image(photos.get(0), Split.TRAIN, 64);
    Image unreadableLabel = Image.newBuilder(PhotoImages.image(photos.get(1), Split.TRAIN, 64)).setLabel("n01234567").build();
    byte[] garbage = "not an avro label".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    createTopics(topics);
    try (KafkaProducer<String, byte[]> producer = producer()) {
      producer.send(new ProducerRecord<>(topics.labels(), "n01234567", garbage)).get();                       // offset 0
      send(producer, topics.labels(), good.getLabel(), RecordSerdes.labelEntry(), TestImages.label(good.getLabel(), 0)); // 1
    }
    AugmentConfig config = AugmentConfig.defaults(new KafkaConnection(broker.bootstrapServers(), topics), stateDir)
        .withApplicationId(topics.prefix() + "augment").withVariants(2).withCropSize(56)
        .withIntervals(Duration.ofMillis(200), Duration.ofMillis(500), Duration.ofSeconds(10));
    try (AugmentService service = new AugmentService(config, new SimpleMeterRegistry())) {
      service.start();
      service.awaitRunning(Duration.ofSeconds(60));
      try (KafkaProducer<String, byte[]> producer = producer()) {
        producer.send(new ProducerRecord<>(topics.labels(), "n99999999", garbage)).get();                     // offset 2
        send(producer, topics.images(), good.getId(), RecordSerdes.image(), good);
        send(producer, topics.images(), unreadableLabel.getId(), RecordSerdes.image(), unreadableLabel);
      }
      List<ConsumerRecord<String, Sample>> samples = read(topics.samplesTrain(), RecordSerdes.sample(), l -> l.size() >= 2, 30);
      List<ConsumerRecord<String, Rejection>> rejected = read(topics.imagesRejected(), RecordSerdes.rejection(), l -> l.size() >= 2, 30);
      assertThat(samples).hasSize(2).allSatisfy(r -> assertThat(r.value().getImageId()).isEqualTo(good.getId()));
      assertThat(rejected).hasSize(2);
      Rejection poison = rejected.stream().map(ConsumerRecord::value).filter(r -> r.getReason().equals("poison-record"))
          .findFirst().orElseThrow();
      assertThat(poison.getStage()).isEqualTo("augment");
      assertThat(poison.getSource()).isEqualTo(topics.labels() + "-0@2");
      assertThat(poison.getDetail()).contains(topics.labels());
      assertThat(poison.getPayload()).isEqualTo(java.nio.ByteBuffer.wrap(garbage));
      Rejection unknown = rejected.stream().map(ConsumerRecord::value).filter(r -> r.getReason().equals("unknown-label"))
          .findFirst().orElseThrow();
      assertThat(unknown.getImageId()).isEqualTo(unreadableLabel.getId());
      assertThat(unknown.getDetail()).contains("'n01234567' cannot be read");
      assertThat(service.state()).isEqualTo(org.apache.kafka.streams.KafkaStreams.State.RUNNING);
    }
  }

  private void createTopics(Topics topics) throws InterruptedException {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
      topics.createAll(admin, (short) 1);
    }
  }

  private KafkaProducer<String, byte[]> producer() {
    return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
        ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.IMAGE_MAX_MESSAGE_BYTES),
        new StringSerializer(), new ByteArraySerializer());
  }

  private static <T extends SpecificRecord> void send(KafkaProducer<String, byte[]> producer, String topic, String key,
      AvroSerde<T> serde, T value) throws Exception {
    producer.send(new ProducerRecord<>(topic, key, serde.serialize(topic, value))).get();
  }

  private <T extends SpecificRecord> List<ConsumerRecord<String, T>> read(String topic, AvroSerde<T> serde,
      Predicate<List<ConsumerRecord<String, T>>> done, int timeoutSeconds) {
    return CommittedRecords.read(broker.bootstrapServers(), topic, serde, done, timeoutSeconds);
  }
}
