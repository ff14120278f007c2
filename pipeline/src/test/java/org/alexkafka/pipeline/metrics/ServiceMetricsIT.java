package org.alexkafka.pipeline.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.alexkafka.broker.EmbeddedKafkaBroker;
import org.alexkafka.broker.SharedKafka;
import org.alexkafka.pipeline.cli.AlexKafkaCli;
import org.alexkafka.schemas.topics.Topics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real services, {@code alexkafka ingest} and {@code alexkafka augment --metrics-port P} in
 * JVMs of their own on the embedded broker, scraped over HTTP on 127.0.0.1 while photos flow:
 * the renamed meters count what the services did, no old name is left, the JVM's and JavaCPP's
 * series are there, {@code /-/healthy} answers, and nothing listens beyond loopback.
 */
class ServiceMetricsIT {

  static final int IMAGE_SIZE = 64;
  static final int CROP = 48;
  static final int K = 2;
  /** The paper's ten test-time views of each validation image. */
  static final int VIEWS = 10;
  static final int CLASSES = 2;
  static final int TRAIN_PER_CLASS = 3;
  static final int VAL_PER_CLASS = 1;

  @TempDir
  Path tmp;

  private final EmbeddedKafkaBroker broker = SharedKafka.broker();

  @Test
  void ingestAndAugmentExposeTheirMetersUnderPrometheusNames() throws Exception {
    Topics topics = SharedKafka.freshTopics("metrics");
    Path photos = copyPhotos(Files.createDirectories(tmp.resolve("photos")));
    int train = CLASSES * TRAIN_PER_CLASS;
    int val = CLASSES * VAL_PER_CLASS;
    int ingestPort = freePort();
    int augmentPort = freePort();
    Path ingestLog = tmp.resolve("ingest.log");
    Path augmentLog = tmp.resolve("augment.log");
    Process ingest = null;
    Process augment = null;
    try {
      ingest = cli(ingestLog, List.of("ingest", "--metrics-port", String.valueOf(ingestPort), "--bootstrap-servers",
          broker.bootstrapServers(), "--topic-prefix", topics.prefix(), "--watch", "--watch-interval-ms", "200", "--threads", "1",
          "--image-size", String.valueOf(IMAGE_SIZE), "--no-progress", photos.toString()));
      augment = cli(augmentLog, List.of("augment", "--metrics-port", String.valueOf(augmentPort), "--bootstrap-servers",
          broker.bootstrapServers(), "--topic-prefix", topics.prefix(), "--application-id", topics.prefix() + "augment",
          "--state-dir", tmp.resolve("augment-state").toString(), "--variants", String.valueOf(K), "--crop-size", String.valueOf(CROP),
          "--stats-interval-ms", "500"));

      Scrape in = awaitScrape(ingest, ingestLog, ingestPort, s -> s.sum("ingest_images_published_total") >= train + val);
      assertThat(in.value("ingest_images_published_total")).isEqualTo(train + val);
      assertThat(in.value("ingest_images_seen_total")).isEqualTo(train + val);
      assertThat(in.value("ingest_images_duplicates_total")).isZero();
      assertThat(in.value("ingest_pixels_published_bytes_total")).as("RGB bytes of %d images of %d²", train + val, IMAGE_SIZE)
          .isEqualTo((double) (train + val) * IMAGE_SIZE * IMAGE_SIZE * 3);
      assertThat(in.names()).doesNotContain("ingest_bytes_published_bytes_total");
      assertTheProcessSeries(in);
      in.assertFollowsTheNamingRules();

      Scrape aug = awaitScrape(augment, augmentLog, augmentPort,
          s -> s.sum("augment_samples_total") >= (long) K * train + (long) VIEWS * val);
      assertThat(aug.value("augment_samples_total{topic=\"" + topics.samplesTrain() + "\"}")).isEqualTo(K * train);
      assertThat(aug.value("augment_samples_total{topic=\"" + topics.samplesVal() + "\"}")).isEqualTo(VIEWS * val);
      assertThat(aug.value("augment_stats_images_total")).isEqualTo(train);
      assertThat(aug.sum("augment_records_rejected_total")).isZero();
      assertThat(aug.names()).doesNotContain("augment_rejected_total", "augment_labels_waited_total")
          .anyMatch(n -> n.startsWith("kafka_consumer_fetch_manager_records_lag")); // the Streams clients' own meters
      assertTheProcessSeries(aug);
      aug.assertFollowsTheNamingRules();

      for (int port : List.of(ingestPort, augmentPort)) {
        var healthy = Scrape.get(port, "/-/healthy");
        assertThat(healthy.statusCode()).isEqualTo(200);
        assertThat(healthy.body()).containsIgnoringCase("healthy");
        assertThat(Listening.addresses(port)).as("listening sockets on " + port).isNotEmpty()
            .allSatisfy(a -> assertThat(a.isLoopbackAddress()).as(a.toString()).isTrue());
      }
    } finally {
      stop(ingest);
      stop(augment);
    }
    assertThatThrownBy(() -> Scrape.get(ingestPort, "/-/healthy")).as("gone with the service").isInstanceOf(ConnectException.class);
  }

  /** What every service's endpoint adds: the JVM's series, GC and uptime among them, and JavaCPP's (on the full class path). */
  private static void assertTheProcessSeries(Scrape s) {
    assertThat(s.names()).contains("jvm_gc_memory_allocated_bytes_total", "jvm_gc_live_data_size_bytes", "jvm_memory_used_bytes",
        "jvm_threads_live_threads", "jvm_classes_loaded_classes", "process_cpu_seconds_total", "process_start_time_seconds");
    assertThat(s.value("process_uptime_seconds")).isPositive();
    assertThat(s.value("javacpp_physical_memory_bytes")).as("the child's resident set").isGreaterThan(10e6);
  }

  private static Scrape awaitScrape(Process p, Path log, int port, java.util.function.Predicate<Scrape> ready) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
    while (true) {
      assertThat(p.isAlive()).as("the service ended early:\n" + tail(log)).isTrue();
      try {
        return Scrape.await(port, ready, Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
      } catch (ConnectException notYet) { // the JVM is still starting
        assertThat(System.nanoTime()).as("no endpoint on " + port + " in 180 s:\n" + tail(log)).isLessThan(deadline);
        Thread.sleep(200);
      } catch (AssertionError e) {
        throw new AssertionError(e.getMessage() + "\nservice log:\n" + tail(log), e);
      }
    }
  }

  /** The first photos of the first classes of testdata/imagenette-mini, in its train/ and val/ layout. */
  private static Path copyPhotos(Path root) throws IOException {
    Path source = testdata();
    for (String split : List.of("train", "val")) {
      int perClass = split.equals("train") ? TRAIN_PER_CLASS : VAL_PER_CLASS;
      List<Path> classes;
      try (Stream<Path> dirs = Files.list(source.resolve(split))) {
        classes = dirs.filter(Files::isDirectory).sorted().limit(CLASSES).toList();
      }
      for (Path classDir : classes) {
        Path target = Files.createDirectories(root.resolve(split).resolve(classDir.getFileName().toString()));
        try (Stream<Path> files = Files.list(classDir)) {
          for (Path f : files.sorted().limit(perClass).toList()) {
            Files.copy(f, target.resolve(f.getFileName().toString()));
          }
        }
      }
    }
    return root;
  }

  private static Path testdata() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isDirectory(p.resolve("testdata/imagenette-mini"))) {
        return p.resolve("testdata/imagenette-mini");
      }
    }
    throw new IllegalStateException("no testdata/imagenette-mini above " + Path.of("").toAbsolutePath());
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** {@code alexkafka <args>} in a JVM of its own, its output in {@code log}. */
  private static Process cli(Path log, List<String> args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx512m", "-XX:+UseSerialGC"));
    String cache = System.getProperty("org.bytedeco.javacpp.cachedir");
    if (cache != null) {
      cmd.add("-Dorg.bytedeco.javacpp.cachedir=" + cache);
    }
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), AlexKafkaCli.class.getName()));
    cmd.addAll(args);
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
  }

  private static void stop(Process p) throws InterruptedException {
    if (p == null || !p.isAlive()) {
      return;
    }
    p.destroy();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }
}
