package org.alexkafka.pipeline.fault;

import static org.alexkafka.pipeline.fault.FaultFixture.report;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.alexkafka.augment.AugmentConfig;
import org.alexkafka.augment.AugmentService;
import org.alexkafka.broker.EmbeddedKafkaBroker;
import org.alexkafka.ingest.IngestConfig;
import org.alexkafka.ingest.IngestService;
import org.alexkafka.ingest.IngestSummary;
import org.alexkafka.pipeline.fault.FaultFixture.Outputs;
import org.alexkafka.pipeline.fault.FaultFixture.PhotoSet;
import org.alexkafka.schemas.config.KafkaConnection;
import org.alexkafka.schemas.topics.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The broker goes down and comes back on the same log directory and port (a controlled stop,
 * {@link EmbeddedKafkaBroker#stop()} / {@link EmbeddedKafkaBroker#restart()}) while the services
 * run in this JVM: (a) in the middle of a folder ingest, (b) while augment (exactly_once_v2) is
 * processing. Afterwards every image is on {@code images} once, and {@code samples.train} /
 * {@code samples.val} hold exactly K / 10 records per training / validation image, read_committed.
 */
@Tag("fault")
class BrokerRestartIT {

  static final int SIZE = 64;
  static final int CROP = 48;
  static final int K = 4;
  static final Duration OUTAGE = Duration.ofSeconds(4);

  @TempDir
  Path tmp;

  private static AugmentConfig augment(KafkaConnection kafka, Path stateDir) {
    return AugmentConfig.defaults(kafka, stateDir).withApplicationId(kafka.topics().prefix() + "augment")
        .withVariants(K).withCropSize(CROP).withInstanceId("augment-1")
        .withIntervals(Duration.ofMillis(200), Duration.ofMillis(500), Duration.ofSeconds(60));
  }

  private static IngestConfig ingest(KafkaConnection kafka) {
    IngestConfig d = IngestConfig.defaults(kafka).withImageSize(SIZE);
    // one decode thread: the scan lasts long enough for the broker to go down in its middle
    return new IngestConfig(d.kafka(), d.folder(), d.watch(), d.httpPort(), d.defaultSplit(), d.synsets(), d.imageSize(),
        d.maxPixels(), d.seed(), 1, d.maxUploadBytes(), d.watchInterval(), d.compression(), d.replicationFactor(),
        false, d.upload());
  }

  @Test
  void aBrokerRestartInTheMiddleOfAFolderIngestLosesAndDoublesNothing() throws Exception {
    Topics topics = new Topics("restart-ingest.");
    PhotoSet photos = FaultFixture.copyPhotos(tmp.resolve("photos"), 10, 0, 12, 3); // 120 train, 30 val
    EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(tmp.resolve("kafka"));
    KafkaConnection kafka = new KafkaConnection(broker.bootstrapServers(), topics);
    try (Admin admin = FaultFixture.admin(broker.bootstrapServers())) {
      topics.createAll(admin, (short) 1);
      try (AugmentService augment = new AugmentService(augment(kafka, tmp.resolve("augment")), new SimpleMeterRegistry());
           IngestService ingest = new IngestService(ingest(kafka), new SimpleMeterRegistry()).start()) {
        augment.start();
        augment.awaitRunning(Duration.ofSeconds(60));
        CompletableFuture<IngestSummary> scan = FaultFixture.async(() -> ingest.scanFolder(tmp.resolve("photos")));
        long before = 0;
        while (before < photos.images() / 4) {
          assertThat(scan).as("the scan ended before the outage: too fast to test").isNotDone();
          Thread.sleep(20);
          before = FaultFixture.endOffsets(admin, topics.images());
        }
        long t0 = System.nanoTime();
        broker.stop();
        Thread.sleep(OUTAGE.toMillis());
        assertThat(scan).as("the scan waits for the broker").isNotDone();
        broker.restart();
        long restarted = System.nanoTime();
        assertThat(broker.bootstrapServers()).isEqualTo(kafka.bootstrapServers());
        IngestSummary summary = scan.get(3, TimeUnit.MINUTES);
        long scanned = System.nanoTime();
        try (Outputs out = new Outputs(broker.bootstrapServers(), topics)) {
          Duration untilComplete = out.awaitComplete(photos, K, Duration.ofSeconds(90));
          report("broker restart during ingest: {} of {} images on the topic when it stopped (down {} ms), scan done {} ms "
              + "after the restart, outputs complete {} ms after it; scan: {}", before, photos.images(),
              TimeUnit.NANOSECONDS.toMillis(restarted - t0), TimeUnit.NANOSECONDS.toMillis(scanned - restarted),
              TimeUnit.NANOSECONDS.toMillis(scanned - restarted) + untilComplete.toMillis(), summary.describe());
          assertThat(summary.published()).isEqualTo(photos.images());
          assertThat(summary.duplicates()).isZero();
          assertThat(summary.rejected()).isZero();
          augment.close(); // commits and leaves: nothing more can appear
          out.assertExact(photos, K);
          report("broker restart during ingest: exact: images {}, samples.train {}, samples.val {}",
              out.images.records(), out.train.records(), out.val.records());
        }
      }
    } finally {
      broker.close();
    }
  }

  @Test
  void aBrokerRestartWhileAugmentProcessesLosesAndDoublesNothing() throws Exception {
    Topics topics = new Topics("restart-augment.");
    PhotoSet photos = FaultFixture.copyPhotos(tmp.resolve("photos"), 10, 0, 16, 4); // 160 train, 40 val
    EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(tmp.resolve("kafka"));
    KafkaConnection kafka = new KafkaConnection(broker.bootstrapServers(), topics);
    try (Admin admin = FaultFixture.admin(broker.bootstrapServers())) {
      topics.createAll(admin, (short) 1);
      try (IngestService ingest = new IngestService(ingest(kafka), new SimpleMeterRegistry()).start()) {
        assertThat(ingest.scanFolder(tmp.resolve("photos")).published()).isEqualTo(photos.images());
      }
      long expectedSamples = (long) K * photos.train().size() + FaultFixture.VIEWS * photos.val().size();
      try (AugmentService augment = new AugmentService(augment(kafka, tmp.resolve("augment")), new SimpleMeterRegistry())) {
        augment.start();
        long written = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (written < expectedSamples / 5) {
          assertThat(System.nanoTime()).as("augment wrote " + written + " samples in 90 s").isLessThan(deadline);
          Thread.sleep(10);
          written = FaultFixture.endOffsets(admin, topics.samplesTrain()) + FaultFixture.endOffsets(admin, topics.samplesVal());
        }
        // the stop lands mid-run: fewer records (markers included) than the samples alone are on the topics
        assertThat(written).as("augment was in the middle of its input when the broker stopped").isLessThan(expectedSamples);
        long t0 = System.nanoTime();
        broker.stop();
        Thread.sleep(OUTAGE.toMillis());
        broker.restart();
        long restarted = System.nanoTime();
        try (Outputs out = new Outputs(broker.bootstrapServers(), topics)) {
          // counted after the restart, while augment goes on: for the report, not a condition
          long committedAtRestart = out.catchUp().train.records() + out.val.records();
          Duration untilComplete = out.awaitComplete(photos, K, Duration.ofSeconds(90));
          report("broker restart during augment: {} sample records (markers included) of {} written when it stopped, "
              + "{} committed at the restart (down {} ms); outputs complete {} ms after the restart, augment {}",
              written, expectedSamples, committedAtRestart, TimeUnit.NANOSECONDS.toMillis(restarted - t0),
              untilComplete.toMillis(), augment.state());
          augment.close();
          out.assertExact(photos, K);
          report("broker restart during augment: exact: images {}, samples.train {}, samples.val {}",
              out.images.records(), out.train.records(), out.val.records());
        }
      }
    } finally {
      broker.close();
    }
  }
}
