package org.alexkafka.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.alexkafka.broker.SharedKafka;
import org.alexkafka.schemas.Image;
import org.alexkafka.schemas.config.KafkaConnection;
import org.alexkafka.schemas.topics.Topics;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ingest reads `labels` and `images.ids` back when it starts: garbage, truncated Avro and a record
 * of an unknown schema there are skipped (logged with their offsets), never fatal, and what was
 * good is recovered exactly: a restart publishes nothing twice and keeps the class indices.
 */
class IngestHostileInputIT {

  private static final int SIZE = 48;

  @TempDir
  Path tmp;

  private static void poison(String bootstrap, String topic) throws Exception {
    byte[] garbage = "not an avro record at all".getBytes();
    byte[] truncated = {(byte) 0xC3, 0x01, 1, 2, 3}; // the single-object marker, then a cut-off fingerprint
    byte[] unknownSchema = {(byte) 0xC3, 0x01, 9, 9, 9, 9, 9, 9, 9, 9, 2, 'x'}; // a fingerprint no reader knows
    try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap),
        new StringSerializer(), new ByteArraySerializer())) {
      for (byte[] bad : List.of(garbage, truncated, unknownSchema)) {
        p.send(new ProducerRecord<>(topic, "bad", bad)).get();
      }
    }
  }

  @Test
  void badRecordsOnTheTopicsReadBackAtStartAreSkippedAndTheGoodOnesRecovered() throws Exception {
    Topics topics = SharedKafka.freshTopics("ingest-hostile-it");
    String bootstrap = SharedKafka.broker().bootstrapServers();
    IngestConfig config = IngestConfig.defaults(new KafkaConnection(bootstrap, topics)).withImageSize(SIZE);
    Path photos = TestData.root().resolve("imagenette-mini").resolve("val");
    Path first = tmp.resolve("first");
    Path second = tmp.resolve("second");
    List<Path> classes;
    try (var s = Files.list(photos)) {
      classes = s.sorted().limit(2).toList();
    }
    int perClass = 0;
    for (Path c : classes) {
      try (var files = Files.list(c)) {
        List<Path> all = files.sorted().toList();
        perClass = all.size();
        for (int i = 0; i < all.size(); i++) {
          Path into = (i % 2 == 0 ? first : second).resolve(c.getFileName().toString());
          Files.createDirectories(into);
          Files.copy(all.get(i), into.resolve(all.get(i).getFileName()));
        }
      }
    }
    IngestSummary a;
    Map<String, Integer> labelsBefore;
    try (IngestService service = new IngestService(config, new SimpleMeterRegistry()).start()) {
      a = service.scanFolder(first);
      labelsBefore = service.labels();
    }
    poison(bootstrap, topics.labels());
    poison(bootstrap, topics.imagesIds());

    IngestSummary again;
    IngestSummary b;
    Map<String, Integer> labelsAfter;
    try (IngestService service = new IngestService(config, new SimpleMeterRegistry()).start()) { // starts despite them
      labelsAfter = service.labels();
      again = service.scanFolder(first);
      b = service.scanFolder(second);
    }
    int total = 2 * perClass;
    assertThat(a.published()).isEqualTo(a.seen()).isPositive();
    assertThat(labelsAfter).isEqualTo(labelsBefore).hasSize(2);
    assertThat(again.published()).as("nothing published twice after the restart").isZero();
    assertThat(again.duplicates()).isEqualTo(a.published());
    assertThat(b.published()).isEqualTo(total - a.published());
    List<Image> images = TopicContents.read(bootstrap, topics).images();
    assertThat(images).hasSize(total);
    assertThat(new HashSet<>(images.stream().map(Image::getId).toList())).hasSize(total);
  }
}
