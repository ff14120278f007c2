package org.alexkafka.pipeline.fault;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.alexkafka.pipeline.cli.AlexKafkaCli;
import org.alexkafka.schemas.topics.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the fault tests share: a small photo tree from {@code testdata/imagenette-mini} (its ids are
 * the SHA-256 of the files, as ingest computes them), read_committed tallies of the topics by key,
 * the exact-count assertion, and child JVMs running the real CLI ({@link AlexKafkaCli}) that a test
 * kills with SIGKILL.
 */
final class FaultFixture {

  private static final Logger log = LoggerFactory.getLogger(FaultFixture.class);
  /** Validation images get the 10 test views. */
  static final int VIEWS = 10;

  private FaultFixture() {}

  /** The images a test ingests, by split, as ids. */
  record PhotoSet(Set<String> train, Set<String> val) {

    int images() {
      return train.size() + val.size();
    }

    PhotoSet plus(PhotoSet more) {
      Set<String> t = new LinkedHashSet<>(train);
      t.addAll(more.train);
      Set<String> v = new LinkedHashSet<>(val);
      v.addAll(more.val);
      return new PhotoSet(t, v);
    }
  }

  static Path imagenetteMini() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      Path candidate = p.resolve("testdata/imagenette-mini");
      if (Files.isDirectory(candidate)) {
        return candidate;
      }
    }
    throw new IllegalStateException("no testdata/imagenette-mini above " + Path.of("").toAbsolutePath());
  }

  /** One photo to put into the tree: where it comes from, where it goes (relative to the root), its id. */
  record Planned(Path source, Path target, String id, boolean train) {}

  /**
   * Photos of the first {@code classes} classes in the ImageNet layout (train/&lt;class&gt;/,
   * val/&lt;class&gt;/): per class, the photos number {@code from .. from+trainPerClass-1} of its
   * train folder and {@code from .. from+valPerClass-1} of its val folder (sorted by name), so
   * plans with other ranges hold other photos. In round-robin order over the classes and splits,
   * so that any prefix of the plan mixes them.
   */
  static List<Planned> plan(int classes, int from, int trainPerClass, int valPerClass) {
    List<List<Planned>> perFolder = new ArrayList<>();
    for (String split : List.of("train", "val")) {
      Path source = imagenetteMini().resolve(split);
      int perClass = split.equals("train") ? trainPerClass : valPerClass;
      try (Stream<Path> dirs = Files.list(source)) {
        for (Path classDir : dirs.filter(Files::isDirectory).sorted().limit(classes).toList()) {
          List<Path> files;
          try (Stream<Path> st = Files.list(classDir)) {
            files = st.sorted().skip(from).limit(perClass).toList();
          }
          assertThat(files).as("photos in " + classDir).hasSize(perClass);
          perFolder.add(files.stream().map(f -> new Planned(f, Path.of(split, classDir.getFileName().toString(),
              f.getFileName().toString()), sha256(f), split.equals("train"))).toList());
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    List<Planned> out = new ArrayList<>();
    for (int i = 0; out.size() < perFolder.stream().mapToInt(List::size).sum(); i++) {
      for (List<Planned> folder : perFolder) {
        if (i < folder.size()) {
          out.add(folder.get(i));
        }
      }
    }
    return out;
  }

  static PhotoSet idsOf(List<Planned> plan) {
    Set<String> train = new LinkedHashSet<>();
    Set<String> val = new LinkedHashSet<>();
    plan.forEach(p -> (p.train() ? train : val).add(p.id()));
    return new PhotoSet(train, val);
  }

  /** Copies a photo into the tree under a temporary name, then renames it: never seen half-written. */
  static void place(Path root, Planned p) {
    try {
      Path target = root.resolve(p.target());
      Files.createDirectories(target.getParent());
      Path tmp = target.resolveSibling("." + target.getFileName() + ".part");
      Files.copy(p.source(), tmp);
      Files.move(tmp, target);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Copies the whole plan into {@code root} now; returns its ids. */
  static PhotoSet copyPhotos(Path root, int classes, int from, int trainPerClass, int valPerClass) {
    List<Planned> plan = plan(classes, from, trainPerClass, valPerClass);
    plan.forEach(p -> place(root, p));
    return idsOf(plan);
  }

  /**
   * Copies the plan into {@code root} in the background, {@code perTick} photos every
   * {@code tick}: images that arrive over time, for a watching ingest. Returns when the last is there.
   */
  static CompletableFuture<Void> drip(Path root, List<Planned> plan, int perTick, Duration tick) {
    return CompletableFuture.runAsync(() -> {
      try {
        for (int i = 0; i < plan.size(); i += perTick) {
          plan.subList(i, Math.min(plan.size(), i + perTick)).forEach(p -> place(root, p));
          Thread.sleep(tick.toMillis());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, FaultFixture::ownThread);
  }

  /**
   * Runs {@code work} on a thread of its own (not the common pool: on 2 cores it has one thread,
   * and a scan waiting for the broker would hold up everything else there).
   */
  static <T> CompletableFuture<T> async(Supplier<T> work) {
    return CompletableFuture.supplyAsync(work, FaultFixture::ownThread);
  }

  private static void ownThread(Runnable r) {
    Thread t = new Thread(r, "fault-test-task");
    t.setDaemon(true);
    t.start();
  }

  static String sha256(Path file) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Every record of a topic counted by key, read_committed (records of aborted or open
   * transactions are not counted), kept up to date by {@link #catchUp()}. Also remembers where
   * each key was first seen.
   */
  static final class Tally implements AutoCloseable {

    final String topic;
    private final KafkaConsumer<String, byte[]> consumer;
    private final List<TopicPartition> partitions;
    private final Map<String, Integer> counts = new HashMap<>();
    private final Map<String, TopicPartition> firstPartition = new HashMap<>();
    private final Map<String, Long> firstOffset = new HashMap<>();
    private final Map<String, Long> firstTimestamp = new HashMap<>();
    private long records;

    Tally(String bootstrap, String topic) {
      this.topic = topic;
      Map<String, Object> props = Map.of(
          ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
          ConsumerConfig.ISOLATION_LEVEL_CONFIG, IsolationLevel.READ_COMMITTED.toString().toLowerCase(),
          ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
          ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
          ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 8 * 1024 * 1024);
      consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
      partitions = consumer.partitionsFor(topic, Duration.ofSeconds(60)).stream()
          .map(p -> new TopicPartition(topic, p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
    }

    /** Reads up to the last stable offset of every partition as of now. */
    Tally catchUp() {
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(60));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (partitions.stream().anyMatch(tp -> consumer.position(tp, Duration.ofSeconds(60)) < end.get(tp))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("could not read " + topic + " up to " + end + " within 60 s");
        }
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          records++;
          if (counts.merge(r.key(), 1, Integer::sum) == 1) {
            firstPartition.put(r.key(), new TopicPartition(r.topic(), r.partition()));
            firstOffset.put(r.key(), r.offset());
            firstTimestamp.put(r.key(), r.timestamp());
          }
        }
      }
      return this;
    }

    long records() {
      return records;
    }

    int distinctKeys() {
      return counts.size();
    }

    Map<String, Integer> counts() {
      return Map.copyOf(counts);
    }

    /** Keys seen more than once, with their counts. */
    Map<String, Integer> doubled() {
      return counts.entrySet().stream().filter(e -> e.getValue() > 1)
          .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue, (a, b) -> a, TreeMap::new));
    }

    TopicPartition partitionOf(String key) {
      return firstPartition.get(key);
    }

    long offsetOf(String key) {
      return firstOffset.get(key);
    }

    /** The timestamp of the key's first record. */
    long timestampOf(String key) {
      return firstTimestamp.get(key);
    }

    @Override
    public void close() {
      consumer.close(Duration.ofSeconds(5));
    }
  }

  /** The three topics whose counts the fault tests check. */
  static final class Outputs implements AutoCloseable {

    final Tally images;
    final Tally train;
    final Tally val;

    Outputs(String bootstrap, Topics topics) {
      images = new Tally(bootstrap, topics.images());
      train = new Tally(bootstrap, topics.samplesTrain());
      val = new Tally(bootstrap, topics.samplesVal());
    }

    Outputs catchUp() {
      images.catchUp();
      train.catchUp();
      val.catchUp();
      return this;
    }

    /** Whether every topic holds (at least) what {@code expected} gives, read_committed. */
    boolean complete(PhotoSet expected, int k) {
      catchUp();
      return images.records() >= expected.images() && train.records() >= (long) k * expected.train().size()
          && val.records() >= (long) VIEWS * expected.val().size();
    }

    /** Waits until {@link #complete}; returns how long it took. */
    Duration awaitComplete(PhotoSet expected, int k, Duration timeout) throws InterruptedException {
      long t0 = System.nanoTime();
      awaitTrue(() -> complete(expected, k), timeout, () -> "outputs incomplete: " + describe(expected, k));
      return Duration.ofNanos(System.nanoTime() - t0);
    }

    String describe(PhotoSet expected, int k) {
      return String.format("images %d/%d, samples.train %d/%d, samples.val %d/%d", images.records(), expected.images(),
          train.records(), (long) k * expected.train().size(), val.records(), (long) VIEWS * expected.val().size());
    }

    /**
     * The exact counts: each image once on {@code images} (by key, and no other key), K samples per
     * training image on {@code samples.train} (keys id#0..id#K-1, each once), the 10 views per
     * validation image on {@code samples.val} (key id, 10 records), read_committed.
     */
    void assertExact(PhotoSet expected, int k) {
      catchUp();
      Map<String, Integer> wantImages = new HashMap<>();
      expected.train().forEach(id -> wantImages.put(id, 1));
      expected.val().forEach(id -> wantImages.put(id, 1));
      assertThat(images.doubled()).as("images published more than once").isEmpty();
      assertThat(images.counts()).as("every image on " + images.topic + " exactly once").isEqualTo(wantImages);
      assertThat(images.records()).isEqualTo(expected.images());

      Map<String, Integer> wantTrain = new HashMap<>();
      for (String id : expected.train()) {
        for (int v = 0; v < k; v++) {
          wantTrain.put(id + "#" + v, 1);
        }
      }
      assertThat(train.doubled()).as("training samples written more than once").isEmpty();
      assertThat(train.counts()).as(k + " samples per training image on " + train.topic).isEqualTo(wantTrain);
      assertThat(train.records()).isEqualTo((long) k * expected.train().size());

      Map<String, Integer> wantVal = new HashMap<>();
      expected.val().forEach(id -> wantVal.put(id, VIEWS));
      assertThat(val.counts()).as(VIEWS + " views per validation image on " + val.topic).isEqualTo(wantVal);
      assertThat(val.records()).isEqualTo((long) VIEWS * expected.val().size());
    }

    @Override
    public void close() {
      images.close();
      train.close();
      val.close();
    }
  }

  /** Records on a topic as the broker counts them (end offsets, read_uncommitted: transaction markers included). */
  static long endOffsets(Admin admin, String topic) throws Exception {
    var partitions = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions();
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    partitions.forEach(p -> latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
    Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS);
    return ends.values().stream().mapToLong(ListOffsetsResult.ListOffsetsResultInfo::offset).sum();
  }

  static Admin admin(String bootstrap) {
    return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 120_000));
  }

  static void awaitTrue(BooleanSupplier condition, Duration timeout, Supplier<String> what)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + timeout.toSeconds() + " s: " + what.get());
      }
      Thread.sleep(100);
    }
  }

  /** A service of the real CLI ({@code alexkafka <args>}) in a JVM of its own, its output in {@code log}. */
  static Process cli(Path log, List<String> args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx512m", "-XX:+UseSerialGC", "-Dlogback.configurationFile=" + childLogConfig(log.getParent()), "-cp", System.getProperty("java.class.path"),
        AlexKafkaCli.class.getName()));
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    return pb.start();
  }

  /** The children's logging: the project's, plus the Streams client's state transitions ({@link #STREAMS_RUNNING}). */
  private static Path childLogConfig(Path dir) throws IOException {
    Path file = dir.resolve("child-logback.xml");
    if (!Files.exists(file)) {
      Files.writeString(file, """
          <configuration>
            <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
              <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{36} - %msg%n</pattern></encoder>
            </appender>
            <logger name="org.alexkafka" level="INFO"/>
            <logger name="org.apache.kafka.streams.KafkaStreams" level="INFO"/>
            <logger name="kafka.server.ReplicaManager" level="OFF"/>
            <root level="WARN"><appender-ref ref="STDOUT"/></root>
          </configuration>
          """);
    }
    return file;
  }

  /** What a child's log says once its Streams app processes (all tasks assigned and restored). */
  static final String STREAMS_RUNNING = "State transition from REBALANCING to RUNNING";

  /** SIGKILL: no shutdown hook, no flush, no commit, no leaving the group. */
  static void sigkill(Process p) throws InterruptedException {
    p.destroyForcibly(); // SIGKILL on Linux
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("killed process gone").isTrue();
    assertThat(p.exitValue()).as("exit status of a SIGKILLed JVM (128 + 9)").isEqualTo(137);
  }

  /** Stops a child JVM at the end of a test (SIGTERM, then SIGKILL); never throws. */
  static void stop(Process p) {
    if (p == null || !p.isAlive()) {
      return;
    }
    p.destroy();
    try {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
    }
  }

  /** The last lines of a child's log, for a failure message. */
  static String tail(Path log, int lines) {
    try {
      List<String> all = Files.readAllLines(log);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  /** Waits until a line of the child's log contains {@code text}. */
  static void awaitLog(Process p, Path log, String text, Duration timeout) throws InterruptedException {
    awaitTrue(() -> {
      assertThat(p.isAlive()).as("child ended early:\n" + tail(log, 40)).isTrue();
      try {
        return Files.exists(log) && Files.readString(log).contains(text);
      } catch (IOException e) {
        return false;
      }
    }, timeout, () -> "no '" + text + "' in the log:\n" + tail(log, 40));
  }

  /**
   * How long after {@code from} the child logged its first line containing {@code text} (the log
   * lines start with HH:mm:ss.SSS, logback-test.xml); null when there is no such line.
   */
  static Duration loggedAfter(Path log, String text, LocalTime from) {
    try {
      for (String line : Files.readAllLines(log)) {
        if (line.contains(text) && line.length() > 12 && line.charAt(2) == ':') {
          Duration d = Duration.between(from, LocalTime.parse(line.substring(0, 12)));
          return d.isNegative() ? d.plusDays(1) : d;
        }
      }
      return null;
    } catch (IOException | DateTimeParseException e) {
      return null;
    }
  }

  static void report(String format, Object... args) {
    log.info("FAULT " + format, args);
  }
}
