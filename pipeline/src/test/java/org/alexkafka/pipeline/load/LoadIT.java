package org.alexkafka.pipeline.load;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import javax.imageio.ImageIO;
import org.alexkafka.broker.EmbeddedKafkaBroker;
import org.alexkafka.broker.SharedKafka;
import org.alexkafka.pipeline.cli.AlexKafkaCli;
import org.alexkafka.schemas.Stats;
import org.alexkafka.schemas.serde.RecordSerdes;
import org.alexkafka.schemas.topics.Topics;
import org.alexkafka.trainer.engine.dl4j.speed.NativeBuildSelector;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Load: 10,000 distinct generated images (48 px JPEGs of per-image noise over a class colour, 4
 * classes, 9,500 train and 500 val, ImageNet layout) through the whole pipeline in one run, each
 * service in a JVM of its own running the real CLI ({@link AlexKafkaCli}) against the embedded
 * broker of this JVM: {@code ingest} of the folder and {@code augment} (exactly_once_v2, K = 2,
 * 72 px images, 64 px crops) at the same time, then {@code train} (small profile, bounded to
 * {@link #STEPS} steps of {@link #BATCH}, then its evaluation over every validation image).
 *
 * <p>Asserted: every image on {@code images} exactly once by key (no other key), exactly K samples
 * per training image on {@code samples.train} (keys id#0..id#K-1, each once) and the 10 views per
 * validation image on {@code samples.val}, read_committed; augment's committed offsets on {@code
 * images} reach the end offsets (lag 0) and its statistics count every training image; the trainer
 * trained exactly STEPS × BATCH samples and scored every validation image with all its views; and
 * the peak RSS (VmHWM, sampled from /proc every 100 ms and read again just before each SIGTERM) of
 * each service stays under -Xmx plus an off-heap allowance, its heap within -Xmx (GC log) and what
 * Native Memory Tracking counts outside the heap under {@link #NMT_OFF_HEAP_BOUND_MB}. One
 * {@code LOAD summary} line gives the counts, durations, rates and memory figures; the services'
 * output and GC logs stay in {@code target/load-it/}.
 *
 * <p>Ingest runs with {@code --watch} (and a 10-minute rescan interval) only so that its JVM is
 * still there to be measured after its scan; it is stopped once the scan's summary is logged.
 */
@Tag("fault")
class LoadIT {

  private static final Logger log = LoggerFactory.getLogger(LoadIT.class);

  static final int CLASSES = 4;
  static final int TRAIN_PER_CLASS = 2_375;
  static final int VAL_PER_CLASS = 125;
  static final int SOURCE_SIDE = 48;
  static final int IMAGE_SIZE = 72;
  static final int CROP = 64;
  static final int K = 2;
  static final int VIEWS = 10;
  static final int BATCH = 32;
  /** Training steps: a bound (an epoch of 19,000 samples would take minutes on a loaded 2-core machine). */
  static final int STEPS = 40;

  /** Heap limits of the services (-Xmx, MB). */
  static final int INGEST_XMX_MB = 512;
  static final int AUGMENT_XMX_MB = 512;
  static final int TRAINER_XMX_MB = 1024;
  /**
   * Bounds on the peak RSS (VmHWM, MB): the heap limit plus an allowance for what lies outside the
   * heap (measured: ingest 300-315 MB of RSS, augment 700-725, trainer 790-815, of which 80-130 MB
   * outside the heap per NMT).
   */
  static final long INGEST_RSS_BOUND_MB = INGEST_XMX_MB + 256;
  static final long AUGMENT_RSS_BOUND_MB = AUGMENT_XMX_MB + 512;
  static final long TRAINER_RSS_BOUND_MB = TRAINER_XMX_MB + 512;
  /** Bound on what NMT counts outside the heap (thread stacks, metaspace, code cache, GC, JVM mallocs), MB. */
  static final long NMT_OFF_HEAP_BOUND_MB = 256;

  private static final Pattern INGEST_SUMMARY = Pattern.compile(
      "ingest summary: seen (\\d+), published (\\d+), duplicates skipped (\\d+), rejected (\\d+) in ([0-9.]+) s");
  private static final Pattern TRAINED = Pattern.compile("trained to epoch (\\d+), iteration (\\d+) \\((\\d+) samples\\)");
  private static final Pattern EVAL = Pattern.compile("val images=(\\d+) .*\\| 10-view images=(\\d+) .*\\| incomplete=(\\d+)");
  private static final Pattern GC = Pattern.compile("(\\d+)M->(\\d+)M\\((\\d+)M\\)");
  /** -XX:+PrintNMTStatistics writes bytes (no unit); jcmd's default is KB. */
  private static final Pattern NMT_TOTAL = Pattern.compile("Total: reserved=(\\d+)(KB)?, committed=(\\d+)(KB)?");
  private static final Pattern NMT_HEAP = Pattern.compile("Java Heap \\(reserved=(\\d+)(KB)?, committed=(\\d+)(KB)?\\)");
  private static final Pattern TRAIN_SPEED = Pattern.compile("\\| ([0-9.]+) img/s \\|");
  private static final Pattern JAVACPP = Pattern.compile("javacpp peak totalBytes=(\\d+) physicalBytes=(\\d+)");

  @TempDir
  Path tmp;

  private final EmbeddedKafkaBroker broker = SharedKafka.broker();
  /** The services' output and GC logs, kept after the run: target/load-it/. */
  private final Path logDir = Path.of("target", "load-it").toAbsolutePath();

  @Test
  void tenThousandImagesFlowThroughEveryServiceWithExactCountsAndBoundedMemory() throws Exception {
    long testStart = System.nanoTime();
    Topics topics = SharedKafka.freshTopics("load");
    String bootstrap = broker.bootstrapServers();
    String group = topics.prefix() + "augment";

    long g0 = System.nanoTime();
    Path root = Files.createDirectories(tmp.resolve("photos"));
    Expected expected = generate(root);
    long generateMs = ms(System.nanoTime() - g0);
    assertThat(expected.train()).hasSize(CLASSES * TRAIN_PER_CLASS);
    assertThat(expected.val()).hasSize(CLASSES * VAL_PER_CLASS);
    int images = expected.train().size() + expected.val().size();
    log.info("LOAD generated {} distinct {} px JPEGs ({} MB) in {} ms", images, SOURCE_SIDE,
        String.format("%.1f", expected.bytes() / 1e6), generateMs);

    Files.createDirectories(logDir);
    for (String f : List.of("ingest", "augment", "trainer")) {
      Files.deleteIfExists(logDir.resolve(f + ".log"));
      Files.deleteIfExists(logDir.resolve(f + "-gc.log"));
    }
    Memory memory = new Memory();
    Child ingest = null;
    Child augment = null;
    Child trainer = null;
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 120_000))) {
      topics.createAll(admin, (short) 1);
      List<String> kafka = List.of("--bootstrap-servers", bootstrap, "--topic-prefix", topics.prefix());

      // ingest and augment at the same time: augment takes each image as it arrives
      long started = System.nanoTime();
      augment = memory.start("augment", AUGMENT_XMX_MB, AlexKafkaCli.class.getName(), concat(List.of("augment"), kafka,
          List.of("--application-id", group, "--state-dir", tmp.resolve("augment-state").toString(), "--variants",
              String.valueOf(K), "--crop-size", String.valueOf(CROP), "--stats-interval-ms", "1000", "--label-wait-ms",
              "60000", "--no-create-topics")));
      // --watch: the JVM stays up after its scan, so its memory can be read; the folder is not rescanned meanwhile
      ingest = memory.start("ingest", INGEST_XMX_MB, AlexKafkaCli.class.getName(), concat(List.of("ingest"), kafka,
          List.of("--image-size", String.valueOf(IMAGE_SIZE), "--watch", "--watch-interval-ms", "600000", "--no-progress",
              root.toString())));

      Child ing = ingest;
      awaitTrue(() -> ing.logContains("ingest summary:"), Duration.ofSeconds(150), ing,
          () -> "ingest did not finish its scan");
      long ingestDone = System.nanoTime();
      Matcher scan = INGEST_SUMMARY.matcher(ingest.log());
      assertThat(scan.find()).as(ingest.tail(20)).isTrue();
      assertThat(Long.parseLong(scan.group(1))).as("files seen").isEqualTo(images);
      assertThat(Long.parseLong(scan.group(2))).as("images published").isEqualTo(images);
      assertThat(Long.parseLong(scan.group(3))).as("duplicates").isZero();
      assertThat(Long.parseLong(scan.group(4))).as("rejected").isZero();
      double ingestScanS = Double.parseDouble(scan.group(5));
      Service ingestMem = ingest.stop(); // SIGTERM: the producer flushes; its memory is read just before
      assertThat(ingestMem.exitCode()).as("ingest's exit after SIGTERM\n" + ingest.tail(20)).isIn(0, 143);

      Child aug = augment;
      long[] lag = {-1};
      long[] statsCount = {-1};
      awaitTrue(() -> {
        lag[0] = lag(admin, group, topics.images());
        if (lag[0] != 0) {
          return false;
        }
        statsCount[0] = latestStatsCount(bootstrap, topics.stats());
        return statsCount[0] == expected.train().size();
      }, Duration.ofSeconds(180), aug, () -> "augment lag on " + topics.images() + " " + lag[0] + ", statistics count "
          + statsCount[0] + " of " + expected.train().size());
      long augmentDone = System.nanoTime();
      assertThat(endOffsets(admin, topics.images())).as("records on " + topics.images()).isEqualTo(images);
      Service augmentMem = augment.stop();
      assertThat(augmentMem.exitCode()).as("augment's exit after SIGTERM\n" + augment.tail(20)).isIn(0, 143);
      assertThat(lag(admin, group, topics.images())).as("augment's lag on images after it stopped").isZero();

      long t0 = System.nanoTime();
      Tally imagesTally = Tally.read(bootstrap, topics.images());
      Tally trainTally = Tally.read(bootstrap, topics.samplesTrain());
      Tally valTally = Tally.read(bootstrap, topics.samplesVal());
      long tallyMs = ms(System.nanoTime() - t0);

      // exact counts, read_committed, by key
      Map<String, Integer> wantImages = new HashMap<>();
      expected.train().forEach(id -> wantImages.put(id, 1));
      expected.val().forEach(id -> wantImages.put(id, 1));
      assertThat(imagesTally.doubled()).as("images published more than once").isEmpty();
      assertThat(imagesTally.counts()).as("every image on " + topics.images() + " exactly once").isEqualTo(wantImages);
      assertThat(imagesTally.records()).isEqualTo(images);
      Map<String, Integer> wantTrain = new HashMap<>();
      for (String id : expected.train()) {
        for (int v = 0; v < K; v++) {
          wantTrain.put(id + "#" + v, 1);
        }
      }
      assertThat(trainTally.doubled()).as("training samples written more than once").isEmpty();
      assertThat(trainTally.counts()).as(K + " samples per training image").isEqualTo(wantTrain);
      assertThat(trainTally.records()).isEqualTo((long) K * expected.train().size());
      Map<String, Integer> wantVal = new HashMap<>();
      expected.val().forEach(id -> wantVal.put(id, VIEWS));
      assertThat(valTally.counts()).as(VIEWS + " views per validation image").isEqualTo(wantVal);
      assertThat(valTally.records()).isEqualTo((long) VIEWS * expected.val().size());
      assertThat(endOffsets(admin, topics.imagesRejected())).as("dead letters").isZero();

      // the trainer: a bounded number of steps, then its evaluation of every validation image
      long trainStart = System.nanoTime();
      trainer = memory.start("trainer", TRAINER_XMX_MB, TrainerWithJavaCppPeak.class.getName(), concat(List.of("train"), kafka,
          List.of("--profile", "small", "--classes", String.valueOf(CLASSES), "--crop-size", String.valueOf(CROP), "--batch",
              String.valueOf(BATCH), "--epochs", "1", "--max-iterations", String.valueOf(STEPS), "--checkpoint-dir",
              tmp.resolve("checkpoints").toString(), "--checkpoint-every", "0", "--run-dir", tmp.resolve("run").toString(),
              "--log-every", "20", "--stats-timeout", "60")));
      Service trainerMem = trainer.awaitExit(Duration.ofSeconds(150));
      long trainMs = ms(System.nanoTime() - trainStart);
      assertThat(trainerMem.exitCode()).as("trainer exit\n" + trainer.tail(30)).isZero();
      Matcher trained = TRAINED.matcher(trainer.log());
      assertThat(trained.find()).as(trainer.tail(30)).isTrue();
      assertThat(Long.parseLong(trained.group(2))).as("iterations").isEqualTo(STEPS);
      assertThat(Long.parseLong(trained.group(3))).as("samples trained").isEqualTo((long) STEPS * BATCH);
      Matcher eval = EVAL.matcher(trainer.log());
      assertThat(eval.find()).as("the evaluation at the end of a bounded run\n" + trainer.tail(30)).isTrue();
      assertThat(Integer.parseInt(eval.group(1))).as("validation images scored").isEqualTo(expected.val().size());
      assertThat(Integer.parseInt(eval.group(2))).as("validation images with all 10 views").isEqualTo(expected.val().size());
      assertThat(Integer.parseInt(eval.group(3))).as("incomplete validation images").isZero();
      Matcher javacpp = JAVACPP.matcher(trainer.log());
      String javacppPeak = javacpp.find() ? String.format(" (JavaCPP: physicalBytes peak %d MB; Pointer.totalBytes peak %d MB: "
          + "ND4J's buffers are not counted there)", Long.parseLong(javacpp.group(2)) >> 20, Long.parseLong(javacpp.group(1)) >> 20) : "";
      Matcher speed = TRAIN_SPEED.matcher(trainer.log());
      String trainSpeed = "?";
      while (speed.find()) {
        trainSpeed = speed.group(1); // the last interval's
      }

      long samples = trainTally.records() + valTally.records();
      double ingestWallS = (ingestDone - started) / 1e9;
      double augmentWallS = (augmentDone - started) / 1e9;
      log.info("LOAD summary: images in {} (train {}, val {}), on {} {} (distinct {}), samples.train {} (= {} x {}), "
          + "samples.val {} (= {} x {}), dead letters 0, augment lag 0, statistics of {} images; "
          + "ingest {} s in its JVM (scan {} s: {} images/s), augment done {} s after its launch ({} images/s, {} samples/s; "
          + "{} s behind ingest), read back {} records in {} ms; trainer {} steps x {} = {} samples "
          + "({} img/s in the last interval), {} val images scored, in {} s in its JVM; "
          + "peak RSS: ingest {}, augment {}, trainer {}{}; generate {} ms, test {} s",
          images, expected.train().size(), expected.val().size(), topics.images(), imagesTally.records(), imagesTally.counts().size(),
          trainTally.records(), K, expected.train().size(), valTally.records(), VIEWS, expected.val().size(), statsCount[0],
          f1(ingestWallS), f1(ingestScanS), f1(images / ingestScanS), f1(augmentWallS), f1(images / augmentWallS),
          f1(samples / augmentWallS), f1((augmentDone - ingestDone) / 1e9), imagesTally.records() + samples, tallyMs,
          trained.group(2), BATCH, trained.group(3), trainSpeed, eval.group(1), f1(trainMs / 1e3), ingestMem, augmentMem, trainerMem,
          javacppPeak, generateMs, f1((System.nanoTime() - testStart) / 1e9));

      assertThat(ingestMem.hwmMb()).as("ingest peak RSS (MB), " + ingestMem).isLessThan(INGEST_RSS_BOUND_MB);
      assertThat(augmentMem.hwmMb()).as("augment peak RSS (MB), " + augmentMem).isLessThan(AUGMENT_RSS_BOUND_MB);
      assertThat(trainerMem.hwmMb()).as("trainer peak RSS (MB), " + trainerMem).isLessThan(TRAINER_RSS_BOUND_MB);
      for (Service s : List.of(ingestMem, augmentMem, trainerMem)) {
        assertThat(s.heapPeakCommittedMb()).as(s.name() + " heap within -Xmx").isBetween(1L, (long) s.xmxMb());
        assertThat(s.nmtOffHeapMb()).as(s.name() + " off-heap per NMT (MB)").isBetween(1L, NMT_OFF_HEAP_BOUND_MB);
      }
    } finally {
      for (Child c : new Child[] {ingest, augment, trainer}) {
        if (c != null) {
          c.kill();
        }
      }
      memory.close();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // the images

  /** The ids (SHA-256 of the files, as ingest computes them) by split. */
  record Expected(Set<String> train, Set<String> val, long bytes) {}

  /**
   * Writes the JPEGs: noise of a per-image seed over a class colour, so every file is distinct (the
   * ids are checked to be); in an interleaved order of classes and splits.
   */
  static Expected generate(Path root) throws IOException {
    record File(Path path, boolean train) {}
    List<File> files = new ArrayList<>();
    for (int c = 0; c < CLASSES; c++) {
      for (String split : List.of("train", "val")) {
        Files.createDirectories(root.resolve(split).resolve("class" + c));
      }
    }
    int perClass = TRAIN_PER_CLASS + VAL_PER_CLASS;
    for (int i = 0; i < CLASSES * perClass; i++) {
      int c = i % CLASSES;
      int n = i / CLASSES;
      boolean train = n < TRAIN_PER_CLASS;
      files.add(new File(root.resolve(train ? "train" : "val").resolve("class" + c).resolve(String.format("img%05d.jpg", i)), train));
    }
    Map<Path, String> ids = new ConcurrentHashMap<>();
    AtomicLong bytes = new AtomicLong();
    IntStream.range(0, files.size()).parallel().forEach(i -> {
      int c = i % CLASSES;
      SplittableRandom rnd = new SplittableRandom(0x10AD_0000L + i);
      BufferedImage img = new BufferedImage(SOURCE_SIDE, SOURCE_SIDE, BufferedImage.TYPE_INT_RGB);
      int base = switch (c) {
        case 0 -> 0xC04030;
        case 1 -> 0x30A040;
        case 2 -> 0x3050C0;
        default -> 0xB0B040;
      };
      for (int y = 0; y < SOURCE_SIDE; y++) {
        for (int x = 0; x < SOURCE_SIDE; x++) {
          int r = clamp(((base >> 16) & 255) + rnd.nextInt(-60, 61) + (x - y));
          int g = clamp(((base >> 8) & 255) + rnd.nextInt(-60, 61));
          int b = clamp((base & 255) + rnd.nextInt(-60, 61) + (y - x));
          img.setRGB(x, y, (r << 16) | (g << 8) | b);
        }
      }
      Path p = files.get(i).path();
      try {
        if (!ImageIO.write(img, "jpg", p.toFile())) {
          throw new IllegalStateException("no JPEG writer");
        }
        byte[] data = Files.readAllBytes(p);
        bytes.addAndGet(data.length);
        ids.put(p, sha256(data));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
    Set<String> train = files.stream().filter(File::train).map(f -> ids.get(f.path())).collect(Collectors.toSet());
    Set<String> val = files.stream().filter(f -> !f.train()).map(f -> ids.get(f.path())).collect(Collectors.toSet());
    assertThat(train.size() + val.size()).as("distinct files (ids)").isEqualTo(files.size());
    assertThat(train).doesNotContainAnyElementsOf(val);
    return new Expected(train, val, bytes.get());
  }

  private static int clamp(int v) {
    return Math.max(0, Math.min(255, v));
  }

  static String sha256(byte[] data) {
    try {
      return java.util.HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // the topics

  /** Every record of a topic, read_committed from the beginning to its current end, counted by key. */
  record Tally(Map<String, Integer> counts, long records) {

    static Tally read(String bootstrap, String topic) {
      Map<String, Object> props = Map.of(
          ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
          ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
          ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
          ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 8 * 1024 * 1024,
          ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 32 * 1024 * 1024);
      Map<String, Integer> counts = new HashMap<>();
      long records = 0;
      try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
        List<TopicPartition> parts = consumer.partitionsFor(topic, Duration.ofSeconds(60)).stream()
            .map(p -> new TopicPartition(topic, p.partition())).toList();
        consumer.assign(parts);
        consumer.seekToBeginning(parts);
        Map<TopicPartition, Long> end = consumer.endOffsets(parts, Duration.ofSeconds(60));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (parts.stream().anyMatch(tp -> consumer.position(tp, Duration.ofSeconds(60)) < end.get(tp))) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("could not read " + topic + " up to " + end + " within 90 s");
          }
          for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
            records++;
            counts.merge(r.key(), 1, Integer::sum);
          }
        }
      }
      return new Tally(counts, records);
    }

    Map<String, Integer> doubled() {
      return counts.entrySet().stream().filter(e -> e.getValue() > 1)
          .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue, (a, b) -> a, TreeMap::new));
    }
  }

  private static Map<TopicPartition, Long> ends(Admin admin, String topic) {
    try {
      var partitions = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions();
      Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
      partitions.forEach(p -> latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
      Map<TopicPartition, Long> out = new HashMap<>();
      admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS).forEach((tp, info) -> out.put(tp, info.offset()));
      return out;
    } catch (Exception e) {
      throw new IllegalStateException("cannot list the end offsets of " + topic, e);
    }
  }

  /** The broker's end offsets, summed (ingest is idempotent, not transactional: one offset per record). */
  static long endOffsets(Admin admin, String topic) {
    return ends(admin, topic).values().stream().mapToLong(Long::longValue).sum();
  }

  /** End offsets minus the group's committed offsets, summed over the topic's partitions. */
  static long lag(Admin admin, String group, String topic) {
    try {
      Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(
          Map.of(group, new ListConsumerGroupOffsetsSpec())).partitionsToOffsetAndMetadata(group).get(30, TimeUnit.SECONDS);
      long lag = 0;
      for (var e : ends(admin, topic).entrySet()) {
        OffsetAndMetadata done = committed.get(e.getKey());
        lag += e.getValue() - (done == null ? 0 : done.offset());
      }
      return lag;
    } catch (Exception e) {
      throw new IllegalStateException("cannot read the lag of " + group, e);
    }
  }

  /** The image count of the newest statistics record; -1 when there is none. */
  static long latestStatsCount(String bootstrap, String topic) {
    Map<String, Object> props = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed", ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
        ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 16 * 1024 * 1024);
    long latest = -1;
    try (KafkaConsumer<String, Stats> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
        RecordSerdes.stats().deserializer())) {
      List<TopicPartition> parts = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
          .map(p -> new TopicPartition(topic, p.partition())).toList();
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      Map<TopicPartition, Long> end = consumer.endOffsets(parts);
      while (parts.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
        for (ConsumerRecord<String, Stats> r : consumer.poll(Duration.ofMillis(200))) {
          if (r.value() != null) {
            latest = r.value().getCount();
          }
        }
      }
    }
    return latest;
  }

  // ---------------------------------------------------------------------------------------------
  // the services and their memory

  /**
   * What a service's JVM used: its peak RSS (VmHWM) and, at the sample of the highest VmRSS, its
   * anonymous and file-backed parts; its heap from the GC log (peak committed, the largest heap
   * before a collection, the largest heap after one: a bound on the live set); and what Native Memory Tracking
   * counted outside the heap at exit (thread stacks, metaspace, code, GC, direct buffers, JVM mallocs;
   * not the mallocs of native libraries).
   */
  record Service(String name, int xmxMb, long hwmKb, long rssAnonKb, long rssFileKb, long heapPeakCommittedMb,
                 long heapPeakUsedMb, long heapAfterGcMb, long nmtCommittedKb, long nmtHeapCommittedKb, int exitCode) {

    long hwmMb() {
      return hwmKb >> 10;
    }

    long nmtOffHeapMb() {
      return nmtCommittedKb < 0 ? -1 : (nmtCommittedKb - nmtHeapCommittedKb) >> 10;
    }

    @Override
    public String toString() {
      return String.format("VmHWM %d MB (at the peak: anon %d, file %d); heap -Xmx%dm: committed %d, used %d, after GC <= %d; "
          + "off-heap per NMT %d MB", hwmKb >> 10, rssAnonKb >> 10, rssFileKb >> 10, xmxMb, heapPeakCommittedMb,
          heapPeakUsedMb, heapAfterGcMb, nmtOffHeapMb());
    }
  }

  /** Starts the children and samples their /proc/PID/status every 100 ms. */
  final class Memory implements AutoCloseable {

    private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "load-rss-sampler");
      t.setDaemon(true);
      return t;
    });
    private final List<Child> children = new java.util.concurrent.CopyOnWriteArrayList<>();

    Memory() {
      sampler.scheduleAtFixedRate(() -> children.forEach(Child::sample), 100, 100, TimeUnit.MILLISECONDS);
    }

    Child start(String name, int xmxMb, String mainClass, List<String> args) throws IOException {
      Path gcLog = logDir.resolve(name + "-gc.log");
      Path out = logDir.resolve(name + ".log");
      List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-Xmx" + xmxMb + "m", "-XX:+UseSerialGC", "-XX:NativeMemoryTracking=summary", "-XX:+UnlockDiagnosticVMOptions",
          "-XX:+PrintNMTStatistics", "-Xlog:gc:file=" + gcLog, "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
          "-Dorg.bytedeco.javacpp.cachedir=" + System.getProperty("org.bytedeco.javacpp.cachedir", ""),
          "-cp", System.getProperty("java.class.path"), mainClass));
      cmd.addAll(args);
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
      Child c = new Child(name, xmxMb, p, out, gcLog);
      children.add(c);
      return c;
    }

    @Override
    public void close() {
      sampler.shutdownNow();
    }
  }

  static final class Child {

    final String name;
    final int xmxMb;
    final Process process;
    final Path out;
    final Path gcLog;
    private volatile long hwmKb;
    private volatile long maxRssKb;
    private volatile long anonAtMaxKb;
    private volatile long fileAtMaxKb;

    Child(String name, int xmxMb, Process process, Path out, Path gcLog) {
      this.name = name;
      this.xmxMb = xmxMb;
      this.process = process;
      this.out = out;
      this.gcLog = gcLog;
    }

    synchronized void sample() {
      if (!process.isAlive()) {
        return;
      }
      try {
        Map<String, Long> status = new HashMap<>();
        for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(process.pid()), "status"))) {
          int colon = line.indexOf(':');
          if (line.startsWith("Vm") || line.startsWith("Rss")) {
            status.put(line.substring(0, colon), kb(line.substring(colon + 1)));
          }
        }
        hwmKb = Math.max(hwmKb, status.getOrDefault("VmHWM", 0L));
        long rss = status.getOrDefault("VmRSS", 0L);
        if (rss > maxRssKb) {
          maxRssKb = rss;
          anonAtMaxKb = status.getOrDefault("RssAnon", 0L);
          fileAtMaxKb = status.getOrDefault("RssFile", 0L) + status.getOrDefault("RssShmem", 0L);
        }
      } catch (IOException | RuntimeException gone) {
        // the process ended between the check and the read
      }
    }

    /** The committed figure of an NMT line, in KB. */
    private static long kb(Matcher nmt) {
      long committed = Long.parseLong(nmt.group(3));
      return nmt.group(4) != null ? committed : committed >> 10;
    }

    private static long kb(String line) {
      return Long.parseLong(line.replaceAll("[^0-9]", ""));
    }

    String log() {
      try {
        return Files.exists(out) ? Files.readString(out) : "";
      } catch (IOException e) {
        return "";
      }
    }

    boolean logContains(String text) {
      return log().contains(text);
    }

    /** The last lines of its output before the NMT summary printed at exit. */
    String tail(int lines) {
      String text = log();
      int nmt = text.indexOf("Native Memory Tracking:");
      List<String> all = (nmt < 0 ? text : text.substring(0, nmt)).lines().toList();
      return name + ":\n" + String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    /** SIGTERM (its memory read first), then waits for the exit and reads its GC log and NMT summary. */
    Service stop() throws InterruptedException {
      sample();
      process.destroy();
      return awaitExit(Duration.ofSeconds(60));
    }

    Service awaitExit(Duration timeout) throws InterruptedException {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        throw new AssertionError(name + " did not end within " + timeout.toSeconds() + " s\n" + tail(40));
      }
      long peakUsed = 0;
      long peakCommitted = 0;
      long live = 0;
      try {
        for (String line : Files.readAllLines(gcLog)) {
          Matcher m = GC.matcher(line);
          if (m.find()) {
            peakUsed = Math.max(peakUsed, Long.parseLong(m.group(1)));
            peakCommitted = Math.max(peakCommitted, Long.parseLong(m.group(3)));
            long before = Long.parseLong(m.group(1));
            long after = Long.parseLong(m.group(2));
            if (after < before) { // not a young collection that failed to promote (a full one follows)
              live = Math.max(live, after);
            }
          }
        }
      } catch (IOException e) {
        // no GC log: the figures stay 0
      }
      String text = log();
      Matcher total = NMT_TOTAL.matcher(text);
      Matcher heap = NMT_HEAP.matcher(text);
      boolean nmt = total.find() & heap.find();
      return new Service(name, xmxMb, hwmKb, anonAtMaxKb, fileAtMaxKb, peakCommitted, peakUsed, live, nmt ? kb(total) : -1,
          nmt ? kb(heap) : -1, process.exitValue());
    }

    void kill() {
      if (process.isAlive()) {
        process.destroyForcibly();
        try {
          process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  /**
   * The trainer's JVM: {@code alexkafka train} ({@link AlexKafkaCli#main}) with a thread that
   * records the peak of JavaCPP's tracked native allocations ({@code Pointer.totalBytes()}) and of
   * its physical bytes, printed at exit.
   */
  public static final class TrainerWithJavaCppPeak {

    public static void main(String[] args) {
      NativeBuildSelector.selectBeforeNd4jLoads(); // as the CLI's main does, before JavaCPP loads anything
      AtomicLong total = new AtomicLong();
      AtomicLong physical = new AtomicLong();
      Runnable sample = () -> {
        total.accumulateAndGet(org.bytedeco.javacpp.Pointer.totalBytes(), Math::max);
        physical.accumulateAndGet(org.bytedeco.javacpp.Pointer.physicalBytes(), Math::max);
      };
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        sample.run();
        System.out.printf("javacpp peak totalBytes=%d physicalBytes=%d%n", total.get(), physical.get());
        System.out.flush();
      }, "javacpp-peak"));
      Thread t = new Thread(() -> {
        while (true) {
          sample.run();
          try {
            Thread.sleep(100);
          } catch (InterruptedException e) {
            return;
          }
        }
      }, "javacpp-peak-sampler");
      t.setDaemon(true);
      t.start();
      AlexKafkaCli.main(args);
    }
  }

  // ---------------------------------------------------------------------------------------------

  private static void awaitTrue(BooleanSupplier condition, Duration timeout, Child child, Supplier<String> what)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      assertThat(child.process.isAlive()).as(child.name + " ended early\n" + child.tail(40)).isTrue();
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + timeout.toSeconds() + " s: " + what.get() + "\n" + child.tail(40));
      }
      Thread.sleep(250);
    }
  }

  @SafeVarargs
  private static List<String> concat(List<String>... parts) {
    List<String> out = new ArrayList<>();
    for (List<String> p : parts) {
      out.addAll(p);
    }
    return out;
  }

  private static long ms(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }

  private static String f1(double v) {
    return String.format("%.1f", v);
  }
}
