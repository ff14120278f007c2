package org.alexkafka.pipeline.fault;

import static org.alexkafka.pipeline.fault.FaultFixture.report;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.alexkafka.broker.EmbeddedKafkaBroker;
import org.alexkafka.broker.SharedKafka;
import org.alexkafka.ingest.IngestConfig;
import org.alexkafka.ingest.IngestService;
import org.alexkafka.ingest.IngestSummary;
import org.alexkafka.pipeline.fault.FaultFixture.Outputs;
import org.alexkafka.pipeline.fault.FaultFixture.PhotoSet;
import org.alexkafka.schemas.config.KafkaConnection;
import org.alexkafka.schemas.topics.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The augment app, in a JVM of its own (the real {@code alexkafka augment}), is killed with
 * SIGKILL while images flow in from a folder ingest, and started again on the same state
 * directory and instance id.
 *
 * <p>exactly_once_v2: read_committed, no sample is lost or doubled; the killed instance's open
 * transaction is aborted when the new one takes over its transactional id.
 *
 * <p>at_least_once: nothing is lost, and the duplicates are exactly what the killed instance had
 * written for the images at or past its last committed offsets (the restarted one processes those
 * again): no other image has a duplicate, and those images were all processed in the last commit
 * interval (+ 1 s) before the kill (see {@link #atLeastOnceDuplicatesAreBoundedByTheCommitInterval}).
 */
@Tag("fault")
class AugmentKillIT {

  static final int SIZE = 64;
  static final int CROP = 48;
  static final int K = 4;

  @TempDir
  Path tmp;

  private final EmbeddedKafkaBroker broker = SharedKafka.broker();

  private List<String> augmentArgs(Topics topics, String guarantee, long commitIntervalMs) {
    return List.of("augment", "--bootstrap-servers", broker.bootstrapServers(), "--topic-prefix", topics.prefix(),
        "--application-id", topics.prefix() + "augment", "--state-dir", tmp.resolve("augment-state").toString(),
        "--variants", String.valueOf(K), "--crop-size", String.valueOf(CROP), "--processing-guarantee", guarantee,
        "--commit-interval-ms", String.valueOf(commitIntervalMs), "--stats-interval-ms", "500", "--label-wait-ms",
        "60000", "--instance-id", "augment-1", "--no-create-topics");
  }

  private static IngestConfig ingest(KafkaConnection kafka) {
    IngestConfig d = IngestConfig.defaults(kafka).withImageSize(SIZE);
    // one decode thread: images arrive over a few seconds, so the kill lands in the middle of them
    return new IngestConfig(d.kafka(), d.folder(), d.watch(), d.httpPort(), d.defaultSplit(), d.synsets(), d.imageSize(),
        d.maxPixels(), d.seed(), 1, d.maxUploadBytes(), d.watchInterval(), d.compression(), d.replicationFactor(),
        false, d.upload());
  }

  /** What a kill-and-restart run measured. */
  private record Run(PhotoSet photos, Outputs out, Map<String, Integer> trainAtKill, Map<String, Integer> valAtKill,
      Map<TopicPartition, Long> committedAtKill, long killedAtMs, Map<String, Long> processedAtMs, Duration recovery,
      IngestSummary ingest) {}

  /**
   * Starts augment in a child JVM and a watching ingest in this JVM; photos arrive in the watched
   * folder at about 20 a second; SIGKILLs augment once half of the samples are committed,
   * starts it again, waits for every sample, stops it cleanly (SIGTERM).
   */
  private Run killAndRestart(Topics topics, String guarantee, long commitIntervalMs) throws Exception {
    List<FaultFixture.Planned> plan = FaultFixture.plan(10, 0, 12, 3); // 120 train, 30 val
    PhotoSet photos = FaultFixture.idsOf(plan);
    Path root = Files.createDirectories(tmp.resolve("photos"));
    long expectedSamples = (long) K * photos.train().size() + FaultFixture.VIEWS * photos.val().size();
    String group = topics.prefix() + "augment";
    List<String> args = augmentArgs(topics, guarantee, commitIntervalMs);
    Path logA = tmp.resolve("augment-a.log");
    Path logB = tmp.resolve("augment-b.log");
    KafkaConnection kafka = new KafkaConnection(broker.bootstrapServers(), topics);
    Process a = null;
    Process b = null;
    try (Admin admin = FaultFixture.admin(broker.bootstrapServers())) {
      topics.createAll(admin, (short) 1);
      // the broker stamps each sample when it is appended: when the augment instance wrote it
      List<AlterConfigOp> appendTime = List.of(new AlterConfigOp(
          new ConfigEntry(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, "LogAppendTime"), AlterConfigOp.OpType.SET));
      admin.incrementalAlterConfigs(Map.of(
          new ConfigResource(ConfigResource.Type.TOPIC, topics.samplesTrain()), appendTime,
          new ConfigResource(ConfigResource.Type.TOPIC, topics.samplesVal()), appendTime)).all().get(30, TimeUnit.SECONDS);
      a = FaultFixture.cli(logA, args);
      long startedA = System.nanoTime();
      FaultFixture.awaitLog(a, logA, FaultFixture.STREAMS_RUNNING, Duration.ofSeconds(90));
      report("augment ({}) in a child JVM was running {} ms after the start", guarantee,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedA));

      Outputs out = new Outputs(broker.bootstrapServers(), topics);
      try (IngestService ingest = new IngestService(ingest(kafka).withWatchInterval(Duration.ofMillis(100)),
          new SimpleMeterRegistry()).start()) {
        ingest.startWatch(root);
        CompletableFuture<Void> arrivals = FaultFixture.drip(root, plan, 3, Duration.ofMillis(150));
        // killed once 50% of the samples are committed (read_committed): after a few seconds and commits
        // of real work (with exactly_once_v2 the next transaction is open), while photos still arrive
        long committedSamples = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (committedSamples < expectedSamples / 2) {
          assertThat(System.nanoTime()).as("augment committed " + committedSamples + " samples in 90 s:\n"
              + FaultFixture.tail(logA, 40)).isLessThan(deadline);
          assertThat(a.isAlive()).as("augment ended early:\n" + FaultFixture.tail(logA, 40)).isTrue();
          Thread.sleep(10);
          out.catchUp();
          committedSamples = out.train.records() + out.val.records();
        }
        long killedAtMs = System.currentTimeMillis();
        FaultFixture.sigkill(a);
        long killed = System.nanoTime();
        boolean ingestDone = arrivals.isDone();

        // what the killed instance left: its committed offsets, and the samples it had written
        Thread.sleep(500); // a produce request already on the wire may still land
        long written = FaultFixture.endOffsets(admin, topics.samplesTrain()) + FaultFixture.endOffsets(admin, topics.samplesVal());
        Map<TopicPartition, Long> committed = new HashMap<>();
        admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS)
            .forEach((tp, om) -> {
              if (tp.topic().equals(topics.images()) && om != null) {
                committed.put(tp, om.offset());
              }
            });
        out.catchUp();
        Map<String, Integer> trainAtKill = out.train.counts();
        Map<String, Integer> valAtKill = out.val.counts();
        // when each image was processed: the append time of its first sample
        Map<String, Long> processedAt = new HashMap<>();
        trainAtKill.keySet().forEach(key -> processedAt.merge(key.substring(0, key.indexOf('#')), out.train.timestampOf(key),
            Math::min));
        valAtKill.keySet().forEach(id -> processedAt.put(id, out.val.timestampOf(id)));
        assertThat(out.train.records() + out.val.records()).as("augment was in the middle of its input")
            .isLessThan(expectedSamples);
        report("augment ({}) SIGKILLed: {} images on the topic, {} of them with samples ({} train, {} val records "
            + "read_committed; {} sample records and markers written), committed offsets {}; photos {}", guarantee,
            out.images.records(), processedAt.size(), out.train.records(), out.val.records(), written, committed,
            ingestDone ? "all there" : "still arriving");

        long restarted = System.nanoTime();
        LocalTime restartedAt = LocalTime.now();
        long beforeRestart = out.train.records() + out.val.records();
        b = FaultFixture.cli(logB, args);
        // (the group stays stable across the restart: the new instance takes the killed one's static membership)
        Duration firstOutput = awaitMore(out, beforeRestart, b, logB);
        arrivals.get(3, TimeUnit.MINUTES);
        awaitDistinct(out, photos, Duration.ofSeconds(90));
        IngestSummary summary = ingest.summary();
        Duration recovery = Duration.ofNanos(System.nanoTime() - restarted);
        Duration appStarted = FaultFixture.loggedAfter(logB, "augment starting", restartedAt);
        Duration running = FaultFixture.loggedAfter(logB, FaultFixture.STREAMS_RUNNING, restartedAt);
        report("augment ({}) restarted {} ms after the kill: the new JVM started the app after {} ms, it was running "
            + "(tasks restored) after {} ms, first new samples {} ms, every sample there {} ms after the start; ingest: {}",
            guarantee, TimeUnit.NANOSECONDS.toMillis(restarted - killed), millis(appStarted), millis(running),
            firstOutput.toMillis(), recovery.toMillis(), summary.describe());
        FaultFixture.stop(b); // SIGTERM: the shutdown hook closes the app (commit, leave the group); then nothing more can appear
        assertThat(b.exitValue()).as("exit status after SIGTERM (128 + 15 once the hooks ran)\n" + FaultFixture.tail(logB, 40))
            .isIn(0, 143);
        assertThat(Files.readString(logB)).contains("augment stopped");
        return new Run(photos, out, trainAtKill, valAtKill, committed, killedAtMs, processedAt, recovery, summary);
      } catch (Exception | AssertionError e) {
        out.close();
        throw e;
      }
    } finally {
      FaultFixture.stop(a);
      FaultFixture.stop(b);
    }
  }

  private static String millis(Duration d) {
    return d == null ? "?" : String.valueOf(d.toMillis());
  }

  /** Until the committed samples grow past {@code before}: the restarted instance writes. */
  private static Duration awaitMore(Outputs out, long before, Process p, Path log) throws InterruptedException {
    long t0 = System.nanoTime();
    FaultFixture.awaitTrue(() -> {
      assertThat(p.isAlive()).as("augment ended early:\n" + FaultFixture.tail(log, 40)).isTrue();
      out.catchUp();
      return out.train.records() + out.val.records() > before;
    }, Duration.ofSeconds(90), () -> "no new samples from the restarted augment:\n" + FaultFixture.tail(log, 40));
    return Duration.ofNanos(System.nanoTime() - t0);
  }

  /** Until every key expected is there (images, samples id#v, and 10 views of each validation image). */
  private static Duration awaitDistinct(Outputs out, PhotoSet photos, Duration timeout) throws InterruptedException {
    long t0 = System.nanoTime();
    FaultFixture.awaitTrue(() -> {
      out.catchUp();
      long fullVal = out.val.counts().values().stream().filter(c -> c >= FaultFixture.VIEWS).count();
      return out.images.distinctKeys() >= photos.images() && out.train.distinctKeys() >= K * photos.train().size()
          && fullVal >= photos.val().size();
    }, timeout, () -> out.describe(photos, K));
    return Duration.ofNanos(System.nanoTime() - t0);
  }

  @Test
  void exactlyOnceLosesAndDoublesNoSampleWhenAugmentIsKilled() throws Exception {
    Topics topics = SharedKafka.freshTopics("kill-augment-eos");
    Run run = killAndRestart(topics, "exactly_once_v2", 1000);
    try (Outputs out = run.out()) {
      out.assertExact(run.photos(), K);
      report("augment (exactly_once_v2) killed and restarted: exact: images {}, samples.train {}, samples.val {}, "
          + "duplicates 0; recovered in {} ms", out.images.records(), out.train.records(), out.val.records(),
          run.recovery().toMillis());
    }
  }

  /**
   * at_least_once commits the consumed offsets of {@code images} every commit interval C, after
   * flushing the producer: every image below the committed offsets has all its samples on the
   * topics, and the restarted instance processes every image from those offsets on again. So, per
   * image: below the committed offset of its partition exactly K (10) samples; at or past it, K
   * (10) plus what the killed instance had written of it. Asserted: (1) nothing is lost; (2) the
   * copies of every sample are exactly that, so only images past the committed offsets have
   * duplicates, at most K (10) each; (3) the bound by the commit interval: every duplicated image
   * was processed by the killed instance (its first sample appended) at most C + 1 s before the
   * kill, so there are at most as many as it processed in that last C + 1 s. Streams commits
   * between processing loops once C has passed since the last commit: at most one interval and one
   * loop (100 records at most, a few ms each here; the 1 s is for a loaded machine) go uncommitted.
   */
  @Test
  void atLeastOnceDuplicatesAreBoundedByTheCommitInterval() throws Exception {
    long commitMs = 1000;
    long windowMs = commitMs + 1000;
    Topics topics = SharedKafka.freshTopics("kill-augment-alo");
    Run run = killAndRestart(topics, "at_least_once", commitMs);
    try (Outputs out = run.out()) {
      out.catchUp();
      PhotoSet photos = run.photos();
      // (1) nothing lost: every key there, each image once
      assertThat(out.images.doubled()).isEmpty();
      assertThat(out.images.distinctKeys()).isEqualTo(photos.images());
      Set<String> wantTrain = new HashSet<>();
      photos.train().forEach(id -> {
        for (int v = 0; v < K; v++) {
          wantTrain.add(id + "#" + v);
        }
      });
      assertThat(out.train.counts().keySet()).isEqualTo(wantTrain);
      assertThat(out.val.counts().keySet()).isEqualTo(photos.val());

      // (2) the copies of each sample: one, plus what the killed instance wrote past its committed offsets
      Set<String> pastCommitted = new HashSet<>();
      for (String id : out.images.counts().keySet()) {
        if (out.images.offsetOf(id) >= run.committedAtKill().getOrDefault(out.images.partitionOf(id), 0L)) {
          pastCommitted.add(id);
        }
      }
      long trainDuplicates = 0;
      Set<String> duplicated = new TreeSet<>();
      for (String id : photos.train()) {
        for (int v = 0; v < K; v++) {
          String key = id + "#" + v;
          int atKill = run.trainAtKill().getOrDefault(key, 0);
          int expected = 1 + (pastCommitted.contains(id) ? atKill : 0);
          assertThat(out.train.counts().get(key)).as("copies of " + key + " (" + atKill + " at the kill, "
              + (pastCommitted.contains(id) ? "at or past" : "below") + " the committed offset)").isEqualTo(expected);
          if (expected > 1) {
            trainDuplicates += expected - 1;
            duplicated.add(id);
          }
        }
      }
      long valDuplicates = 0;
      for (String id : photos.val()) {
        int atKill = run.valAtKill().getOrDefault(id, 0);
        int expected = FaultFixture.VIEWS + (pastCommitted.contains(id) ? atKill : 0);
        assertThat(out.val.counts().get(id)).as("views of " + id + " (" + atKill + " at the kill, "
            + (pastCommitted.contains(id) ? "at or past" : "below") + " the committed offset)").isEqualTo(expected);
        if (expected > FaultFixture.VIEWS) {
          valDuplicates += expected - FaultFixture.VIEWS;
          duplicated.add(id);
        }
      }
      assertThat(trainDuplicates).isLessThanOrEqualTo((long) K * duplicated.size());
      assertThat(valDuplicates).isLessThanOrEqualTo((long) FaultFixture.VIEWS * duplicated.size());

      // (3) bounded by the commit interval
      Set<String> inLastWindow = new TreeSet<>();
      run.processedAtMs().forEach((id, at) -> {
        if (at >= run.killedAtMs() - windowMs) {
          inLastWindow.add(id);
        }
      });
      long oldest = duplicated.stream().mapToLong(id -> run.killedAtMs() - run.processedAtMs().get(id)).max().orElse(0);
      report("augment (at_least_once, commit interval {} ms) killed and restarted: {} images processed before the kill, "
          + "{} of them in its last {} ms, {} past the committed offsets; duplicates: {} train + {} val sample records of "
          + "{} images, the oldest processed {} ms before the kill; totals images {}, samples.train {}, samples.val {}; "
          + "recovered in {} ms", commitMs, run.processedAtMs().size(), inLastWindow.size(), windowMs,
          pastCommitted.stream().filter(run.processedAtMs()::containsKey).count(), trainDuplicates, valDuplicates,
          duplicated.size(), oldest, out.images.records(), out.train.records(), out.val.records(),
          run.recovery().toMillis());
      assertThat(inLastWindow).as("images with duplicates were all processed in the last C + 1 s before the kill")
          .containsAll(duplicated);
      assertThat(duplicated.size()).isLessThanOrEqualTo(inLastWindow.size());
    }
  }
}
