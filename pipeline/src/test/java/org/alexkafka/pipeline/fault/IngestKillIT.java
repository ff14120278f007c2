package org.alexkafka.pipeline.fault;

import static org.alexkafka.pipeline.fault.FaultFixture.report;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.alexkafka.augment.AugmentConfig;
import org.alexkafka.augment.AugmentService;
import org.alexkafka.broker.EmbeddedKafkaBroker;
import org.alexkafka.broker.SharedKafka;
import org.alexkafka.pipeline.fault.FaultFixture.Outputs;
import org.alexkafka.pipeline.fault.FaultFixture.PhotoSet;
import org.alexkafka.pipeline.fault.FaultFixture.Planned;
import org.alexkafka.schemas.config.KafkaConnection;
import org.alexkafka.schemas.topics.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ingest service, in a JVM of its own (the real {@code alexkafka ingest --watch}), is killed
 * with SIGKILL in the middle of its first scan of a watched folder, more photos are added while it
 * is down, and it is started again; once back, more photos arrive for its watcher. At start-up it
 * reads back {@code images.ids} (and the tail of {@code images} past the last ref: the images
 * whose ref the kill kept off), so nothing is published twice and nothing is skipped; augment
 * (exactly_once_v2, in this JVM) turns every image into exactly its K / 10 samples.
 */
@Tag("fault")
class IngestKillIT {

  static final int SIZE = 64;
  static final int CROP = 48;
  static final int K = 4;
  private static final Pattern RECOVERED = Pattern.compile(
      "recovered (\\d+) classes from \\S+ and (\\d+) published ids \\((\\d+) refs from \\S+, (\\d+) records from \\S+\\)");
  private static final Pattern SUMMARY = Pattern.compile(
      "ingest summary: seen (\\d+), published (\\d+), duplicates skipped (\\d+), rejected (\\d+)");

  @TempDir
  Path tmp;

  private final EmbeddedKafkaBroker broker = SharedKafka.broker();

  @Test
  void aKilledIngestRestartedOnAWatchedFolderPublishesEveryImageOnce() throws Exception {
    Topics topics = SharedKafka.freshTopics("kill-ingest");
    Path root = Files.createDirectories(tmp.resolve("photos"));
    PhotoSet first = FaultFixture.copyPhotos(root, 10, 0, 12, 3); // 150 photos for the first scan
    List<Planned> whileDown = FaultFixture.plan(10, 12, 2, 1); // 30 more while ingest is dead
    List<Planned> afterRestart = FaultFixture.plan(10, 14, 2, 1); // 30 more for the restarted watcher
    PhotoSet all = first.plus(FaultFixture.idsOf(whileDown)).plus(FaultFixture.idsOf(afterRestart));
    assertThat(all.images()).isEqualTo(210);

    List<String> args = List.of("ingest", "--bootstrap-servers", broker.bootstrapServers(), "--topic-prefix",
        topics.prefix(), "--watch", "--watch-interval-ms", "200", "--threads", "1", "--image-size", String.valueOf(SIZE),
        "--no-progress", root.toString());
    Path logA = tmp.resolve("ingest-a.log");
    Path logB = tmp.resolve("ingest-b.log");
    KafkaConnection kafka = new KafkaConnection(broker.bootstrapServers(), topics);
    AugmentConfig augmentConfig = AugmentConfig.defaults(kafka, tmp.resolve("augment")).withApplicationId(topics.prefix() + "augment")
        .withVariants(K).withCropSize(CROP).withInstanceId("augment-1")
        .withIntervals(Duration.ofMillis(200), Duration.ofMillis(500), Duration.ofSeconds(60));
    Process a = null;
    Process b = null;
    try (Admin admin = FaultFixture.admin(broker.bootstrapServers())) {
      topics.createAll(admin, (short) 1);
      try (AugmentService augment = new AugmentService(augmentConfig, new SimpleMeterRegistry());
           Outputs out = new Outputs(broker.bootstrapServers(), topics)) {
        augment.start();
        a = FaultFixture.cli(logA, args);
        long onTopic = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (onTopic < first.images() / 3) {
          assertThat(System.nanoTime()).as("ingest published " + onTopic + " images in 90 s:\n" + FaultFixture.tail(logA, 40))
              .isLessThan(deadline);
          assertThat(a.isAlive()).as("ingest ended early:\n" + FaultFixture.tail(logA, 40)).isTrue();
          Thread.sleep(10);
          onTopic = FaultFixture.endOffsets(admin, topics.images());
        }
        FaultFixture.sigkill(a);
        long killed = System.nanoTime();
        Thread.sleep(500); // a produce request already on the wire may still land
        long imagesAtKill = FaultFixture.endOffsets(admin, topics.images());
        long refsAtKill = FaultFixture.endOffsets(admin, topics.imagesIds());
        assertThat(imagesAtKill).as("killed in the middle of the first scan").isLessThan(first.images());
        assertThat(Files.readString(logA)).as("the first scan had not ended").doesNotContain("ingest summary:");
        report("ingest SIGKILLed during its first scan: {} of {} images on {}, {} refs on {}", imagesAtKill,
            first.images(), topics.images(), refsAtKill, topics.imagesIds());

        whileDown.forEach(p -> FaultFixture.place(root, p));
        long restarted = System.nanoTime();
        LocalTime restartedAt = LocalTime.now();
        b = FaultFixture.cli(logB, args);
        FaultFixture.awaitLog(b, logB, "ingest summary:", Duration.ofSeconds(90));
        long scanned = System.nanoTime();
        String logText = Files.readString(logB);
        Matcher recovered = RECOVERED.matcher(logText);
        assertThat(recovered.find()).as(FaultFixture.tail(logB, 40)).isTrue();
        Matcher scan = SUMMARY.matcher(logText);
        assertThat(scan.find()).as(FaultFixture.tail(logB, 40)).isTrue();
        long ids = Long.parseLong(recovered.group(2));
        long refs = Long.parseLong(recovered.group(3));
        long tail = Long.parseLong(recovered.group(4));
        Duration recoveredAfter = FaultFixture.loggedAfter(logB, "recovered ", restartedAt);
        report("ingest restarted {} ms after the kill: recovered {} ids ({} refs, {} records read past the last ref) "
            + "{} ms after the start (a fresh JVM); first scan done {} ms after the start: {}",
            TimeUnit.NANOSECONDS.toMillis(restarted - killed), ids, refs, tail,
            recoveredAfter == null ? "?" : recoveredAfter.toMillis(), TimeUnit.NANOSECONDS.toMillis(scanned - restarted),
            scan.group());
        assertThat(ids).as("every image on the topic at the kill is known").isEqualTo(imagesAtKill);
        assertThat(refs + tail).as("refs read plus the images read past the last ref").isGreaterThanOrEqualTo(imagesAtKill);
        long seen = Long.parseLong(scan.group(1));
        long published = Long.parseLong(scan.group(2));
        long duplicates = Long.parseLong(scan.group(3));
        assertThat(seen).isEqualTo(first.images() + whileDown.size());
        assertThat(duplicates).as("the images the killed instance had published").isEqualTo(imagesAtKill);
        assertThat(published).as("the rest of the first scan and the photos added while it was down")
            .isEqualTo(first.images() + whileDown.size() - imagesAtKill);
        assertThat(Long.parseLong(scan.group(4))).as("rejected").isZero();

        afterRestart.forEach(p -> FaultFixture.place(root, p));
        out.awaitComplete(all, K, Duration.ofSeconds(90));
        report("ingest kill: every image and sample there {} ms after the restart",
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restarted));
        FaultFixture.stop(b); // SIGTERM: the watcher stops, the producer flushes
        assertThat(b.exitValue()).as("exit status after SIGTERM (128 + 15 once the hooks ran)\n" + FaultFixture.tail(logB, 40))
            .isIn(0, 143);
        augment.close();
        out.assertExact(all, K);
        long refsAtEnd = FaultFixture.endOffsets(admin, topics.imagesIds());
        report("ingest kill: exact: images {} (refs on {}: {}), samples.train {}, samples.val {}", out.images.records(),
            topics.imagesIds(), refsAtEnd, out.train.records(), out.val.records());
        // one ref per image: the killed instance's, the ones recovery found missing, the restarted one's
        assertThat(refsAtEnd).isEqualTo(all.images());
      }
    } finally {
      FaultFixture.stop(a);
      FaultFixture.stop(b);
    }
  }
}
