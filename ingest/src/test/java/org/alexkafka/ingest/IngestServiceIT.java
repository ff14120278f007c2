package org.alexkafka.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.alexkafka.broker.SharedKafka;
import org.alexkafka.schemas.Image;
import org.alexkafka.schemas.LabelEntry;
import org.alexkafka.schemas.Split;
import org.alexkafka.schemas.config.KafkaConnection;
import org.alexkafka.schemas.topics.Topics;
import org.junit.jupiter.api.Test;

/** The real photos of testdata through the real embedded broker, and a restart. */
class IngestServiceIT {

  private static final int SIZE = 64;

  private static IngestConfig config(Topics topics) {
    return IngestConfig.defaults(new KafkaConnection(SharedKafka.broker().bootstrapServers(), topics))
        .withImageSize(SIZE).withProgress(true);
  }

  private static long files(Path root) throws Exception {
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(Files::isRegularFile).count();
    }
  }

  @Test
  void everyRealPhotoIsPublishedOrRejectedAndARestartPublishesNothingTwice() throws Exception {
    Topics topics = SharedKafka.freshTopics("ingest-it");
    Path val100 = TestData.root().resolve("imagenet-val-100");
    Path mini = TestData.root().resolve("imagenette-mini");
    SimpleMeterRegistry meters = new SimpleMeterRegistry();

    IngestSummary first;
    IngestSummary second;
    try (IngestService service = new IngestService(config(topics), meters).start()) {
      first = service.scanFolder(val100);
      second = service.scanFolder(mini);
    }
    assertThat(first.seen()).isEqualTo(files(val100)).isEqualTo(100);
    assertThat(first.published() + first.rejected() + first.duplicates()).isEqualTo(first.seen());
    assertThat(second.seen()).isEqualTo(files(mini)).isEqualTo(800);
    assertThat(second.published() + second.rejected() + second.duplicates()).isEqualTo(second.seen());
    // Real ImageNet photos are all decodable: nothing rejected, nothing repeated.
    assertThat(first.rejected() + second.rejected()).isZero();
    assertThat(first.duplicates() + second.duplicates()).isZero();
    assertThat(meters.get("ingest.images.published").counter().count()).isEqualTo(900.0);
    // ingest_pixels_published_bytes_total: every published image's RGB bytes, the unit once
    assertThat(meters.get("ingest.pixels.published").counter().getId().getBaseUnit()).isEqualTo("bytes");
    assertThat(meters.get("ingest.pixels.published").counter().count()).isEqualTo(900.0 * SIZE * SIZE * 3)
        .isEqualTo((double) (first.bytesPublished() + second.bytesPublished()));

    TopicContents contents = TopicContents.read(SharedKafka.broker().bootstrapServers(), topics);
    assertThat(contents.images()).hasSize((int) (first.published() + second.published()));
    assertThat(contents.rejections()).hasSize((int) (first.rejected() + second.rejected()));
    Set<String> ids = new HashSet<>();
    for (Image image : contents.images()) {
      assertThat(ids.add(image.getId())).as("id %s published once", image.getId()).isTrue();
      assertThat(image.getWidth()).isEqualTo(SIZE);
      assertThat(image.getHeight()).isEqualTo(SIZE);
      assertThat(image.getPixels().remaining()).isEqualTo(SIZE * SIZE * 3);
      assertThat(image.getId()).hasSize(64).isEqualTo(org.alexkafka.ingest.publish.ContentId.of(Files.readAllBytes(Path.of(image.getSource()))));
      Path source = Path.of(image.getSource());
      assertThat(image.getLabel()).isEqualTo(source.getParent().getFileName().toString());
      if (source.startsWith(mini)) {
        assertThat(image.getSplit()).isEqualTo(Split.valueOf(source.getParent().getParent().getFileName().toString().toUpperCase()));
      } else {
        assertThat(image.getSplit()).isEqualTo(Split.TRAIN);
      }
    }
    assertThat(contents.images().stream().filter(i -> i.getSplit() == Split.VAL)).hasSize(200);
    // Every class is registered once, with distinct indices 0..n-1 given in order of first use.
    Set<String> classes = contents.images().stream().map(Image::getLabel).collect(Collectors.toSet());
    assertThat(contents.labels().keySet()).isEqualTo(classes);
    assertThat(contents.labelRecords()).isEqualTo(classes.size());
    assertThat(contents.labels().values().stream().map(LabelEntry::getIndex).sorted().toList())
        .isEqualTo(java.util.stream.IntStream.range(0, classes.size()).boxed().toList());

    // Each class was on the labels topic before the first image of that class was sent.
    Map<String, Long> labelTime = firstTimestamps(topics.labels(), false);
    Map<String, Long> firstImageTime = firstTimestamps(topics.images(), true);
    assertThat(firstImageTime.keySet()).isEqualTo(classes);
    firstImageTime.forEach((cls, t) -> assertThat(labelTime.get(cls)).as("label %s before its images", cls).isLessThanOrEqualTo(t));

    // A restart reads back the ids and the classes: nothing is published twice.
    Map<String, Integer> indices;
    IngestSummary again;
    try (IngestService service = new IngestService(config(topics), new SimpleMeterRegistry()).start()) {
      again = service.scanFolder(mini);
      indices = service.labels();
    }
    assertThat(again.seen()).isEqualTo(800);
    assertThat(again.published()).isZero();
    assertThat(again.duplicates()).isEqualTo(800);
    TopicContents after = TopicContents.read(SharedKafka.broker().bootstrapServers(), topics);
    assertThat(after.images()).hasSize(contents.images().size());
    assertThat(after.labelRecords()).isEqualTo(contents.labelRecords());
    contents.labels().forEach((k, v) -> assertThat(indices.get(k)).isEqualTo(v.getIndex()));
  }

  /** Copies under the first image's class are duplicates; copies under another class are label conflicts, recorded. */
  @Test
  void theSameContentUnderTwoNamesIsOneImage(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    Topics topics = SharedKafka.freshTopics("ingest-dup");
    Path photo = Files.list(TestData.root().resolve("imagenet-val-100/n01440764")).findFirst().orElseThrow();
    Files.createDirectories(dir.resolve("n01440764"));
    Files.createDirectories(dir.resolve("n01443537"));
    Files.copy(photo, dir.resolve("n01440764/a.JPEG"));
    Files.copy(photo, dir.resolve("n01440764/b.JPEG"));
    Files.copy(photo, dir.resolve("n01443537/c.JPEG"));
    IngestSummary summary;
    try (IngestService service = new IngestService(config(topics), new SimpleMeterRegistry()).start()) {
      summary = service.scanFolder(dir);
    }
    assertThat(summary.seen()).isEqualTo(3);
    assertThat(summary.published()).isEqualTo(1);
    TopicContents contents = TopicContents.read(SharedKafka.broker().bootstrapServers(), topics);
    assertThat(contents.images()).hasSize(1);
    // The scan order is shuffled: whichever file came first gave the picture its class.
    boolean tenchFirst = contents.images().get(0).getLabel().equals("n01440764");
    assertThat(summary.duplicates()).isEqualTo(tenchFirst ? 1 : 0);
    assertThat(summary.rejectedByReason()).containsEntry("label-conflict", tenchFirst ? 1L : 2L);
    assertThat(contents.rejections()).hasSize(tenchFirst ? 1 : 2).allSatisfy(r -> {
      assertThat(r.getReason()).isEqualTo("label-conflict");
      assertThat(r.getDetail()).contains("n01440764", "n01443537");
    });
  }

  /**
   * A restart reads the small images.ids index, then only the images after the last offset it
   * records per partition: there it finds an image whose ref a crash lost, and records it.
   */
  @Test
  void aRestartReadsTheIdsIndexAndOnlyTheImagesAfterIt() throws Exception {
    Topics topics = SharedKafka.freshTopics("ingest-ids");
    Path val100 = TestData.root().resolve("imagenet-val-100");
    try (IngestService service = new IngestService(config(topics), new SimpleMeterRegistry()).start()) {
      assertThat(service.recovery().refsRead()).isZero();
      assertThat(service.scanFolder(val100).published()).isEqualTo(100);
    }
    Map<String, String> imagesAt = new java.util.HashMap<>(); // "partition@offset" -> image id
    Map<String, org.alexkafka.schemas.ImageRef> refs = new java.util.HashMap<>();
    String bootstrap = SharedKafka.broker().bootstrapServers();
    Map<String, Object> client = Map.of("bootstrap.servers", bootstrap);
    var bytes = new org.apache.kafka.common.serialization.ByteArrayDeserializer();
    var keys = new org.apache.kafka.common.serialization.StringDeserializer();
    org.alexkafka.ingest.publish.TopicReader.readToEnd(client, topics.images(), keys, bytes, Map.of(), java.time.Duration.ofSeconds(30),
        r -> imagesAt.put(r.partition() + "@" + r.offset(), r.key()));
    org.alexkafka.ingest.publish.TopicReader.readToEnd(client, topics.imagesIds(), keys, org.alexkafka.schemas.serde.RecordSerdes.imageRef(),
        java.time.Duration.ofSeconds(30), refs::put);
    assertThat(refs).hasSize(100);
    refs.forEach((id, ref) -> assertThat(imagesAt.get(ref.getPartition() + "@" + ref.getOffset())).as("ref of %s", id).isEqualTo(id));

    // An image on the topic whose ref never made it (the process died in between).
    Image image = TopicContents.read(bootstrap, topics).images().get(0);
    Image orphan = Image.newBuilder(image).setId("f".repeat(64)).build();
    try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<String, byte[]>(Map.of("bootstrap.servers", bootstrap,
        "max.request.size", Topics.IMAGE_MAX_MESSAGE_BYTES), new org.apache.kafka.common.serialization.StringSerializer(),
        new org.apache.kafka.common.serialization.ByteArraySerializer())) {
      producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topics.images(), orphan.getId(),
          org.alexkafka.schemas.serde.RecordSerdes.image().serialize(topics.images(), orphan))).get();
    }
    try (IngestService service = new IngestService(config(topics), new SimpleMeterRegistry()).start()) {
      assertThat(service.recovery().refsRead()).isEqualTo(100);
      assertThat(service.recovery().imagesRead()).as("only the tail after the recorded offsets").isEqualTo(1);
      assertThat(service.recovery().ids()).hasSize(101).contains(orphan.getId());
      assertThat(service.recovery().missing()).extracting(org.alexkafka.schemas.ImageRef::getImageId).containsExactly(orphan.getId());
      assertThat(service.scanFolder(val100).duplicates()).isEqualTo(100);
    }
    try (IngestService service = new IngestService(config(topics), new SimpleMeterRegistry()).start()) {
      assertThat(service.recovery().refsRead()).as("the orphan's ref was recorded").isEqualTo(101);
      assertThat(service.recovery().imagesRead()).isZero();
      assertThat(service.recovery().ids()).hasSize(101);
    }
  }

  /** Earliest record timestamp per class: of the label entry, or of the class's images. */
  private static Map<String, Long> firstTimestamps(String topic, boolean images) {
    Map<String, Long> first = new java.util.HashMap<>();
    try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<String, byte[]>(Map.of(
        "bootstrap.servers", SharedKafka.broker().bootstrapServers(), "enable.auto.commit", false),
        new org.apache.kafka.common.serialization.StringDeserializer(), new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
      var partitions = consumer.partitionsFor(topic).stream()
          .map(p -> new org.apache.kafka.common.TopicPartition(topic, p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      var end = consumer.endOffsets(partitions);
      long deadline = System.currentTimeMillis() + 30_000;
      while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp)) && System.currentTimeMillis() < deadline) {
        for (var r : consumer.poll(java.time.Duration.ofMillis(200))) {
          String cls = images ? org.alexkafka.schemas.serde.RecordSerdes.image().deserialize(topic, r.value()).getLabel() : r.key();
          first.merge(cls, r.timestamp(), Math::min);
        }
      }
    }
    return first;
  }
}
