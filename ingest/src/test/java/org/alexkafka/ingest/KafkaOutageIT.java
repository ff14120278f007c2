package org.alexkafka.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.alexkafka.broker.EmbeddedKafkaBroker;
import org.alexkafka.schemas.Image;
import org.alexkafka.schemas.config.KafkaConnection;
import org.alexkafka.schemas.topics.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Kafka goes down while a scan is under way: the service retries, and publishes nothing twice once it is back. */
class KafkaOutageIT {

  @Test
  void aScanDuringAnOutageCompletesOnceTheBrokerIsBackWithEachImageOnce(@TempDir Path tmp) throws Exception {
    Path kafkaDir = tmp.resolve("kafka");
    Topics topics = new Topics("outage.");
    Path photos = tmp.resolve("photos");
    List<Path> sources;
    try (Stream<Path> s = Files.list(TestData.root().resolve("imagenette-mini/train/n01440764"))) {
      sources = s.sorted().limit(12).toList();
    }
    Path classDir = Files.createDirectories(photos.resolve("train/n01440764"));
    for (Path p : sources.subList(0, 4)) {
      Files.copy(p, classDir.resolve(p.getFileName()));
    }

    EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(kafkaDir);
    String bootstrap = broker.bootstrapServers();
    try (Admin admin = Admin.create(new KafkaConnection(bootstrap, topics).clientProperties())) {
      topics.createAll(admin, (short) 1);
    }
    IngestConfig config = IngestConfig.defaults(new KafkaConnection(bootstrap, topics)).withImageSize(32);
    try (IngestService service = new IngestService(config, new SimpleMeterRegistry()).start()) {
      assertThat(service.scanFolder(photos).published()).isEqualTo(4);

      broker.close(); // Kafka goes down
      for (Path p : sources.subList(4, 12)) {
        Files.copy(p, classDir.resolve(p.getFileName()));
      }
      CompletableFuture<IngestSummary> scan = CompletableFuture.supplyAsync(() -> service.scanFolder(photos));
      Thread.sleep(4000);
      assertThat(scan).as("the scan waits for Kafka instead of dropping or rejecting").isNotDone();

      broker = EmbeddedKafkaBroker.start(kafkaDir); // back, at the same address
      assertThat(broker.bootstrapServers()).isEqualTo(bootstrap);
      IngestSummary during = scan.get(3, TimeUnit.MINUTES);

      assertThat(during.published()).isEqualTo(8);
      assertThat(during.duplicates()).isEqualTo(4);
      assertThat(during.rejected()).isZero();
    } finally {
      TopicContents contents = TopicContents.read(bootstrap, topics);
      broker.close();
      List<String> ids = contents.images().stream().map(Image::getId).toList();
      assertThat(ids).hasSize(12).doesNotHaveDuplicates();
      assertThat(contents.labelRecords()).isEqualTo(1);
    }
  }
}
