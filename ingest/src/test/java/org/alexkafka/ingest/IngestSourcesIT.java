package org.alexkafka.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.alexkafka.broker.SharedKafka;
import org.alexkafka.schemas.Image;
import org.alexkafka.schemas.Rejection;
import org.alexkafka.schemas.Split;
import org.alexkafka.schemas.config.KafkaConnection;
import org.alexkafka.schemas.topics.Topics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The hard files, watch mode, uploads and an unreachable broker, through the real broker. */
class IngestSourcesIT {

  private static final int SIZE = 32;

  private static IngestConfig config(Topics topics) {
    return IngestConfig.defaults(new KafkaConnection(SharedKafka.broker().bootstrapServers(), topics)).withImageSize(SIZE);
  }

  private static List<String[]> manifest() throws Exception {
    return Files.readAllLines(TestData.hard("manifest.tsv")).stream().skip(1).filter(l -> !l.isBlank())
        .map(l -> l.split("\t")).toList();
  }

  @Test
  void hardFilesArePublishedOrRejectedWithAReasonAndTheScanGoesOn(@TempDir Path dir) throws Exception {
    Topics topics = SharedKafka.freshTopics("ingest-hard");
    Path cls = Files.createDirectories(dir.resolve("val/n01440764"));
    Files.createDirectories(dir.resolve("val/n09999999")); // an empty class folder: a warning, no failure
    for (String[] row : manifest()) {
      Files.copy(TestData.hard(row[0]), cls.resolve(row[0]));
    }
    Files.writeString(dir.resolve("stray.jpg"), "not in a class folder");
    long ok = manifest().stream().filter(r -> r[1].equals("ok")).count();
    long bad = manifest().size() - ok;

    IngestSummary summary;
    try (IngestService service = new IngestService(config(topics), new SimpleMeterRegistry()).start()) {
      summary = service.scanFolder(dir);
    }
    // The eight EXIF files are distinct files; no two hard files share content.
    assertThat(summary.seen()).isEqualTo(manifest().size() + 1);
    assertThat(summary.published()).isEqualTo(ok);
    assertThat(summary.rejected()).isEqualTo(bad + 1);
    assertThat(summary.rejectedByReason()).containsEntry("unknown-label", 1L).containsEntry("too-large", 2L)
        .containsEntry("empty", 1L).containsEntry("not-an-image", 1L).containsEntry("truncated", 1L);

    TopicContents contents = TopicContents.read(SharedKafka.broker().bootstrapServers(), topics);
    assertThat(contents.images()).hasSize((int) ok).allSatisfy(i -> {
      assertThat(i.getSplit()).isEqualTo(Split.VAL);
      assertThat(i.getPixels().remaining()).isEqualTo(SIZE * SIZE * 3);
    });
    Map<String, String> rejected = contents.rejections().stream()
        .collect(Collectors.toMap(r -> Path.of(r.getSource()).getFileName().toString(), Rejection::getReason));
    for (String[] row : manifest()) {
      if (row[1].equals("reject")) {
        assertThat(rejected).containsKey(row[0]);
      }
    }
    assertThat(rejected).containsEntry("bomb-65535.jpg", "too-large").containsEntry("truncated-half.JPEG", "truncated")
        .containsEntry("stray.jpg", "unknown-label");
    assertThat(contents.rejections()).allSatisfy(r -> {
      assertThat(r.getStage()).isEqualTo("ingest");
      assertThat(r.getDetail()).isNotBlank();
    });
  }

  @Test
  void withASynsetsFileClassesGetTheStandardIndexAndUnknownClassesAreRejected(@TempDir Path dir) throws Exception {
    Topics topics = SharedKafka.freshTopics("ingest-synsets");
    Path photos = TestData.root().resolve("imagenet-val-100");
    for (String c : List.of("n01530575", "n01440764")) {
      Path from = Files.list(photos.resolve(c)).findFirst().orElseThrow();
      Files.createDirectories(dir.resolve(c));
      Files.copy(from, dir.resolve(c).resolve(from.getFileName()));
    }
    Path fake = Files.createDirectories(dir.resolve("not-a-synset"));
    Files.copy(Files.list(photos.resolve("n01601694")).findFirst().orElseThrow(), fake.resolve("x.JPEG"));
    IngestConfig cfg = config(topics).withSynsets(TestData.root().resolve("synsets/LOC_synset_mapping.txt"));
    IngestSummary summary;
    try (IngestService service = new IngestService(cfg, new SimpleMeterRegistry()).start()) {
      summary = service.scanFolder(dir);
    }
    assertThat(summary.published()).isEqualTo(2);
    assertThat(summary.rejectedByReason()).containsEntry("unknown-label", 1L);
    TopicContents contents = TopicContents.read(SharedKafka.broker().bootstrapServers(), topics);
    assertThat(contents.labels()).hasSize(2);
    assertThat(contents.labels().get("n01440764").getIndex()).isZero();
    assertThat(contents.labels().get("n01530575").getIndex()).isEqualTo(10); // line 11 of the file
    assertThat(contents.labels().get("n01530575").getName()).startsWith("brambling");
  }

  @Test
  void watchModePublishesAFileCopiedInAfterStart(@TempDir Path dir) throws Exception {
    Topics topics = SharedKafka.freshTopics("ingest-watch");
    Path photos = TestData.root().resolve("imagenet-val-100");
    Path before = Files.list(photos.resolve("n01440764")).findFirst().orElseThrow();
    Path later = Files.list(photos.resolve("n01530575")).findFirst().orElseThrow();
    Files.createDirectories(dir.resolve("n01440764"));
    Files.copy(before, dir.resolve("n01440764/first.JPEG"));
    IngestConfig cfg = config(topics).withFolder(dir, true).withWatchInterval(Duration.ofMillis(300));
    try (IngestService service = new IngestService(cfg, new SimpleMeterRegistry()).start()) {
      IngestSummary first = service.startWatch(dir);
      assertThat(first.published()).isEqualTo(1);
      Files.createDirectories(dir.resolve("n01530575"));
      Files.copy(later, dir.resolve("n01530575/later.JPEG"));
      long deadline = System.currentTimeMillis() + 20_000;
      while (service.summary().published() < 2 && System.currentTimeMillis() < deadline) {
        Thread.sleep(100);
      }
      assertThat(service.summary().published()).as("picked up within seconds").isEqualTo(2);
      service.stopWatch();
    }
    List<Image> images = TopicContents.read(SharedKafka.broker().bootstrapServers(), topics).images();
    assertThat(images).extracting(Image::getLabel).containsExactlyInAnyOrder("n01440764", "n01530575");
  }

  @Test
  void uploadsArePublishedAndBadUploadsGetA4xxWithTheReason() throws Exception {
    Topics topics = SharedKafka.freshTopics("ingest-http");
    byte[] photo = Files.readAllBytes(Files.list(TestData.root().resolve("imagenet-val-100/n01440764")).findFirst().orElseThrow());
    byte[] big = Files.readAllBytes(TestData.hard("large-3968x2976.jpg"));
    IngestConfig cfg = config(topics).withHttpPort(0, Math.max(photo.length, 200_000) + 1);
    assertThat((long) big.length).isGreaterThan(cfg.maxUploadBytes());
    HttpClient client = HttpClient.newHttpClient();
    try (IngestService service = new IngestService(cfg, new SimpleMeterRegistry()).start()) {
      int port = service.startHttp(0);
      var post = (java.util.function.BiFunction<String, byte[], HttpResponse<String>>) (query, body) -> {
        try {
          return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + query))
              .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      };
      HttpResponse<String> created = post.apply("/images?label=n01440764&split=val&name=tench.jpg", photo);
      assertThat(created.statusCode()).isEqualTo(201);
      assertThat(created.body()).contains("\"status\":\"published\"").contains(org.alexkafka.ingest.publish.ContentId.of(photo));
      assertThat(post.apply("/images?label=n01440764", photo).statusCode()).isEqualTo(200);
      HttpResponse<String> text = post.apply("/images?label=n01440764&name=notes.txt", "hello".getBytes());
      assertThat(text.statusCode()).isEqualTo(422);
      assertThat(text.body()).contains("not-an-image");
      HttpResponse<String> noLabel = post.apply("/images", photo);
      assertThat(noLabel.statusCode()).isEqualTo(400);
      assertThat(noLabel.body()).contains("label");
      assertThat(post.apply("/images?label=n01440764&split=test", photo).statusCode()).isEqualTo(400);
      HttpResponse<String> tooBig = post.apply("/images?label=n01440764", big);
      assertThat(tooBig.statusCode()).isEqualTo(413);
      assertThat(tooBig.body()).contains("over the limit");
      assertThat(client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/images")).GET().build(),
          HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(405);
    }
    TopicContents contents = TopicContents.read(SharedKafka.broker().bootstrapServers(), topics);
    assertThat(contents.images()).hasSize(1);
    assertThat(contents.images().get(0).getSplit()).isEqualTo(Split.VAL);
    assertThat(contents.images().get(0).getSource()).isEqualTo("upload:tench.jpg");
    assertThat(contents.rejections()).extracting(Rejection::getSource).containsExactly("upload:notes.txt");
  }

  @Test
  void anUnreachableBrokerGivesAClearMessage() {
    IngestConfig cfg = IngestConfig.defaults(new KafkaConnection("127.0.0.1:1", new Topics("x.")));
    assertThatThrownBy(() -> new IngestService(cfg, new SimpleMeterRegistry(), Duration.ofSeconds(2)).start())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("cannot reach Kafka at 127.0.0.1:1");
  }
}
