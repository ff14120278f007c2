package org.alexkafka.pipeline.stack;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.alexkafka.broker.EmbeddedKafkaBroker;
import org.alexkafka.pipeline.cli.AlexKafkaCli;
import org.alexkafka.pipeline.stack.ComposeStack.Dockerfile;
import org.alexkafka.pipeline.stack.ComposeStack.Mount;
import org.alexkafka.schemas.topics.TopicSpec;
import org.alexkafka.schemas.topics.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/**
 * The closest this machine comes to {@code docker compose up} (it has no Docker engine): every
 * service of docker-compose.yml but the Kafka broker runs as a process of its own, a JVM running
 * the distribution's launcher ({@link AlexKafkaCli}) with the JVM options of its image's
 * ENTRYPOINT, the environment and the command the compose file gives it, in the order its
 * {@code depends_on} conditions allow (a {@code service_healthy} condition waits for the service's
 * own health check, run as the file gives it), against an embedded broker of its own. topics,
 * ingest and augment run on the slim image's class path: this test's, less the jars
 * pipeline/Dockerfile removes.
 *
 * <p>Photos go into ingest's mounted folder (a first wave before it starts, a second wave into the
 * watched folder later) and one through its upload port. Asserted: topics exits 0 having created
 * every topic of the registry; each photo is on {@code images} exactly once; {@code samples.train}
 * holds exactly K samples per training photo (keys id#0..id#K-1), {@code samples.val} the 10 views
 * of each held-out photo (read_committed); both trainer ranks train together and end at the
 * iteration limit, rank 0 having written a checkpoint and its metrics on the volume the file
 * mounts; the health checks of the services still running pass; every process stays under its
 * service's memory limit (peak RSS).
 *
 * <p>The only departures from the file are {@link Substitutions}: what must differ when the
 * containers are processes of one machine, and a scale-down to fit about two minutes on 2 cores.
 */
class ComposeServicesAsProcessesIT {

  private static final Logger log = LoggerFactory.getLogger(ComposeServicesAsProcessesIT.class);
  /** Views augment writes per held-out image. */
  private static final int VIEWS = 10;
  private static final int CLASSES = 10;
  private static final int FIRST_WAVE_TRAIN = 4;
  private static final int VAL_PER_CLASS = 2;
  private static final Duration STARTUP = Duration.ofSeconds(120);
  private static final Duration FLOW = Duration.ofSeconds(150);

  @TempDir
  Path tmp;

  /**
   * Every departure from docker-compose.yml and the images, in one place (each explained where it
   * is made, below):
   * <ol>
   *   <li>the broker's address (the broker service's advertised listener, kafka:9092) is the embedded broker's;
   *   <li>a service's name used as a host (MASTER_ADDR=trainer) is 127.0.0.1;
   *   <li>each port a service listens on is a free port of this machine (the processes share one);
   *   <li>each service works in a directory of its own (its WORKDIR and HOME), each volume is a
   *       directory, ingest's photo folder holds 71 photos of testdata/imagenette-mini;
   *   <li>{@code cuda} is {@code cpu}, and the ENTRYPOINT's {@code platform.extension=-gpu} goes;
   *   <li>JavaCPP's cache directory is the build's;
   *   <li>{@code -jar /app/alexkafka.jar} is {@code -cp} (the test's class path, the slim image's
   *       without what its Dockerfile removes) with the jar's Main-Class, Add-Opens and logback.xml;
   *   <li>the optional env_file kafka-client.env is not read;
   *   <li>scale-down: {@link #scaleDownFlags} and {@link #SCALE_DOWN_ENV}.
   * </ol>
   * Nothing else differs: the environment is the file's (the image's own variables aside: PATH,
   * HOME, locale), the command is the file's, and the JVM options are the image's ENTRYPOINT's and
   * the file's JAVA_TOOL_OPTIONS (the heaps and JavaCPP's limits, as the containers have them).
   * Not imitated: restart policies, memory limits (peak RSS is checked against them instead).
   */
  static final class Substitutions {

    /** Scale-down: appended to (or replacing in) a subcommand's arguments. */
    static Map<String, List<String>> scaleDownFlags(CommandLine cli) {
      String trainCrop = option(cli, "train", "--crop-size", "--input-size");
      return Map.of(
          // 72 px images and 64 px crops instead of 256 and 224, and K = 2 crops per training
          // image instead of 8: the same work per image at 1/12 of the pixels, so that augment and
          // a CPU trainer keep up on 2 shared cores
          "ingest", List.of("--image-size", "72"),
          "augment", List.of("--crop-size", "64", "--variants", "2"),
          // the small profile (the same network, narrower) at the crops' size, a global batch of
          // 16 (8 per rank) and 4 steps: the ranks' group, their steps, the checkpoint and the
          // evaluation, within seconds on a CPU instead of hours on two GPUs
          "train", List.of("--profile", "small", trainCrop, "64", "--batch", "16", "--max-iterations", "4"));
    }

    /**
     * Scale-down: variables added. Two libtorch ranks on 2 cores: one intra-op thread each
     * (as DataParallelIT), not one per core each.
     */
    static final Map<String, Map<String, String>> SCALE_DOWN_ENV = Map.of("train", Map.of("OMP_NUM_THREADS", "1"));

    final Map<String, String> hostOf = new LinkedHashMap<>();
    final Map<String, Map<String, Integer>> portsOf = new LinkedHashMap<>();
    final Map<String, Path> volumeDirs = new LinkedHashMap<>();
    final Map<String, Path> workDirs = new LinkedHashMap<>();
    final ComposeStack stack;
    final String advertised;
    final String bootstrap;

    Substitutions(ComposeStack stack, EmbeddedKafkaBroker broker, Path tmp) throws IOException {
      this.stack = stack;
      // 1. the broker: the address the file's services use (the broker service's advertised
      //    listener, kafka:9092) becomes the embedded broker's
      String listeners = stack.environment(stack.brokerService()).get("KAFKA_ADVERTISED_LISTENERS");
      advertised = listeners.replaceFirst("^[A-Z_]+://", "").split(",")[0];
      bootstrap = broker.bootstrapServers();
      for (String service : stack.appServices()) {
        // 2. host names: a service's name (MASTER_ADDR=trainer) is this machine, where every process listens
        hostOf.put(service, "127.0.0.1");
        // 3. ports: each container has every port to itself, the processes share this machine's:
        //    each port a service listens on (ports: container side, expose:) becomes a free one
        Map<String, Integer> ports = new LinkedHashMap<>();
        for (String p : stack.containerPorts(service)) {
          ports.put(p, freePort());
        }
        portsOf.put(service, ports);
        // 4. file systems: each container has its own; a process gets a working directory of its
        //    own (the image's WORKDIR, also its HOME), and each volume is a directory (a named
        //    volume one for all the services that mount it; ingest's photo folder a fresh one)
        workDirs.put(service, Files.createDirectories(tmp.resolve("work-" + service)));
        for (Mount m : stack.mounts(service)) {
          String key = m.bind() ? "bind:" + m.source() : m.source();
          if (!volumeDirs.containsKey(key)) {
            volumeDirs.put(key, Files.createDirectories(tmp.resolve("volume-" + volumeDirs.size() + "-"
                + m.target().replaceAll("[^A-Za-z0-9]+", ""))));
          }
        }
      }
    }

    /** One value of a service's environment or command (its subcommand aside), as the process needs it. */
    String value(String service, String value) {
      if (value.equals(advertised)) {
        return bootstrap;
      }
      if (hostOf.containsKey(value)) {
        return hostOf.get(value);
      }
      // 5. CUDA: this machine has no GPU and the test class path no CUDA build of libtorch
      if (value.equals("cuda") || value.matches("cuda:\\d+")) {
        return "cpu";
      }
      Integer own = portsOf.get(service).get(value);
      if (own != null) {
        return String.valueOf(own);
      }
      if (stackPorts().contains(value)) {
        // the port of another service this one names as a host (MASTER_ADDR=trainer, MASTER_PORT: rank 0's rendezvous)
        for (String host : stack.environment(service).values()) {
          Map<String, Integer> theirs = portsOf.get(host);
          if (theirs != null && !host.equals(service) && theirs.containsKey(value)) {
            return String.valueOf(theirs.get(value));
          }
        }
        // else one it listens on without publishing it (the topics job's metrics port): a free one of its own
        int port = uncheckedFreePort();
        portsOf.get(service).put(value, port);
        return String.valueOf(port);
      }
      for (Mount m : stack.mounts(service)) {
        if (value.equals(m.target()) || value.startsWith(m.target() + "/")) {
          return hostDir(service, m) + value.substring(m.target().length());
        }
      }
      return value;
    }

    private Set<String> stackPorts() {
      Set<String> ports = new LinkedHashSet<>();
      portsOf.values().forEach(p -> ports.addAll(p.keySet()));
      return ports;
    }

    private static int uncheckedFreePort() {
      try {
        return freePort();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    Path hostDir(String service, Mount m) {
      return volumeDirs.get(m.bind() ? "bind:" + m.source() : m.source());
    }

    /** A health check's arguments: the ports of its service, as in {@link #value}. */
    String healthCheckArgument(String service, String arg) {
      String out = arg;
      for (Map.Entry<String, Integer> p : portsOf.get(service).entrySet()) {
        out = out.replaceAll("(?<![0-9])" + Pattern.quote(p.getKey()) + "(?![0-9])", String.valueOf(p.getValue()));
      }
      return out;
    }

    /**
     * The image's ENTRYPOINT JVM options, as a process needs them: 6. JavaCPP's cache directory
     * (/tmp/javacpp in the image) is the build's, where the natives are already unpacked (~1 GB);
     * 5. {@code platform.extension=-gpu} (which selects the CUDA build of libtorch) is dropped.
     */
    List<String> jvmOptions(List<String> entrypointOptions) {
      List<String> out = new ArrayList<>();
      String cache = System.getProperty("org.bytedeco.javacpp.cachedir");
      for (String o : entrypointOptions) {
        if (o.startsWith("-Dorg.bytedeco.javacpp.platform.extension=")) {
          continue;
        }
        if (o.startsWith("-Dorg.bytedeco.javacpp.cachedir=") && cache != null && !cache.isBlank()) {
          out.add("-Dorg.bytedeco.javacpp.cachedir=" + cache);
          continue;
        }
        out.add(o);
      }
      return out;
    }

    /*
     * 7. `-jar /app/alexkafka.jar` becomes `-cp <class path> <its Main-Class>` and the jar's
     *    manifest Add-Opens an --add-opens (a manifest is read by -jar only): the class path is
     *    this test's (the modules as built here), for the slim image less what its Dockerfile
     *    removes, and the logging configuration is the jar's own logback.xml (on the test class
     *    path, logback-test.xml would win).
     * 8. env_file kafka-client.env is not read: it holds a deployment's secrets for a secured
     *    cluster (KAFKA_CLIENT_*), while the embedded broker listens on PLAINTEXT.
     * 9. Photos: ingest's mounted folder holds 71 of the project's own photos
     *    (testdata/imagenette-mini, 10 classes), not an ImageNet tree.
     */
  }

  @Test
  void everyServiceOfTheComposeFileAsAProcessTakesPhotosToTrainedSamples() throws Exception {
    long started = System.nanoTime();
    ComposeStack stack = ComposeStack.load();
    CommandLine cli = AlexKafkaCli.commandLine();
    Map<String, List<String>> scaleDown = Substitutions.scaleDownFlags(cli);
    Path logs = Files.createDirectories(Path.of("target", "compose-it").toAbsolutePath());
    Map<String, Service> running = new LinkedHashMap<>();
    PeakRss rss = new PeakRss();
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start()) {
      Substitutions subs = new Substitutions(stack, broker, tmp);
      Topics topics = new Topics(stack.environment(stack.appServices().get(0)).getOrDefault("TOPIC_PREFIX", ""));

      String ingestService = serviceRunning(stack, "ingest");
      Mount photoMount = stack.mounts(ingestService).stream().filter(Mount::bind).findFirst()
          .orElseThrow(() -> new AssertionError(ingestService + " mounts no photo folder"));
      Path photos = subs.hostDir(ingestService, photoMount);
      Photos plan = Photos.plan();
      plan.firstWave().forEach(p -> p.copyInto(photos));

      // start the services as depends_on allows
      Set<String> pending = new LinkedHashSet<>(stack.appServices());
      Set<String> healthy = new LinkedHashSet<>();
      long deadline = System.nanoTime() + STARTUP.toNanos();
      while (!pending.isEmpty()) {
        for (String service : List.copyOf(pending)) {
          if (canStart(stack, service, running, healthy, subs)) {
            running.put(service, start(stack, service, subs, scaleDown, logs, rss));
            pending.remove(service);
          }
        }
        assertThat(System.nanoTime()).as("services not started within " + STARTUP.toSeconds() + " s: " + pending + "\n"
            + tails(running)).isLessThan(deadline);
        Thread.sleep(200);
      }
      log.info("COMPOSE all {} services started in {} s (healthy on the way: {})", running.size(),
          seconds(started), healthy);

      Service topicsJob = running.get(serviceRunning(stack, "topics"));
      assertThat(topicsJob.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(topicsJob.process.exitValue()).as(topicsJob.tail()).isZero();
      try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
        Set<String> names = admin.listTopics().names().get(30, TimeUnit.SECONDS);
        for (TopicSpec spec : topics.all()) {
          assertThat(names).as("topics created by " + topicsJob.name).contains(spec.name());
          assertThat(topicsJob.output()).contains(spec.name());
        }
      }

      try (Tally images = new Tally(broker.bootstrapServers(), topics.images());
          Tally train = new Tally(broker.bootstrapServers(), topics.samplesTrain());
          Tally val = new Tally(broker.bootstrapServers(), topics.samplesVal())) {
        // the first wave scanned, the second into the watched folder, one photo through the upload port
        awaitTrue(() -> images.catchUp().records() >= plan.firstWave().size(), FLOW,
            () -> "first wave on " + images.topic + ": " + images.records() + "/" + plan.firstWave().size() + "\n" + tails(running));
        plan.secondWave().forEach(p -> p.copyInto(photos));
        int uploadPort = uploadPort(stack, ingestService, subs);
        // ingest opens its upload port after its first scan (its health check is the metrics endpoint's)
        awaitTrue(() -> accepts(uploadPort), FLOW, () -> "ingest's upload port " + uploadPort + " never opened\n" + tails(running));
        Photo upload = plan.upload();
        HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
            "http://127.0.0.1:" + uploadPort + "/images?label=" + upload.wnid() + "&split=train&name=" + upload.source().getFileName()))
            .POST(HttpRequest.BodyPublishers.ofFile(upload.source())).timeout(Duration.ofSeconds(60)).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(answer.statusCode()).as("upload: " + answer.body()).isEqualTo(201);

        int k = Integer.parseInt(flagValue(scaleDown.get("augment"), "--variants"));
        Set<String> trainIds = plan.ids(true);
        Set<String> valIds = plan.ids(false);
        awaitTrue(() -> images.catchUp().records() >= trainIds.size() + valIds.size()
                && train.catchUp().records() >= (long) k * trainIds.size() && val.catchUp().records() >= (long) VIEWS * valIds.size(),
            FLOW, () -> String.format("images %d/%d, samples.train %d/%d, samples.val %d/%d%n%s", images.records(),
                trainIds.size() + valIds.size(), train.records(), k * trainIds.size(), val.records(), VIEWS * valIds.size(),
                tails(running)));
        Thread.sleep(1000); // anything more (a duplicate) would have arrived by now
        images.catchUp();
        train.catchUp();
        val.catchUp();
        Map<String, Integer> wantImages = new TreeMap<>();
        trainIds.forEach(id -> wantImages.put(id, 1));
        valIds.forEach(id -> wantImages.put(id, 1));
        assertThat(images.counts()).as("every photo on " + images.topic + " exactly once").isEqualTo(wantImages);
        Map<String, Integer> wantTrain = new TreeMap<>();
        trainIds.forEach(id -> {
          for (int v = 0; v < k; v++) {
            wantTrain.put(id + "#" + v, 1);
          }
        });
        assertThat(train.counts()).as(k + " samples per training photo on " + train.topic).isEqualTo(wantTrain);
        Map<String, Integer> wantVal = new TreeMap<>();
        valIds.forEach(id -> wantVal.put(id, VIEWS));
        assertThat(val.counts()).as(VIEWS + " views per held-out photo on " + val.topic).isEqualTo(wantVal);
        log.info("COMPOSE {} photos -> {} images, {} training samples, {} validation samples after {} s", plan.all().size(),
            images.records(), train.records(), val.records(), seconds(started));
      }

      // the trainer ranks: trained together to the iteration limit; rank 0's checkpoint and metrics on the volume
      long maxIterations = Long.parseLong(flagValue(scaleDown.get("train"), "--max-iterations"));
      long batch = Long.parseLong(flagValue(scaleDown.get("train"), "--batch"));
      List<String> ranks = stack.appServices().stream().filter(s -> stack.command(s).get(0).equals("train")).toList();
      assertThat(ranks).hasSizeGreaterThanOrEqualTo(2);
      List<String> writers = new ArrayList<>();
      Set<String> trained = new LinkedHashSet<>();
      for (String rank : ranks) {
        Service s = running.get(rank);
        assertThat(s.process.waitFor(FLOW.toSeconds(), TimeUnit.SECONDS)).as(rank + " ends at the iteration limit\n" + s.tail()).isTrue();
        assertThat(s.process.exitValue()).as(rank + "\n" + s.tail()).isZero();
        Matcher m = Pattern.compile("trained to epoch (\\d+), iteration (\\d+) \\((\\d+) samples\\).*checkpoint (\\S+)")
            .matcher(s.output());
        assertThat(m.find()).as(rank + " reports its training\n" + s.tail()).isTrue();
        assertThat(Long.parseLong(m.group(2))).as(rank + ": iterations").isEqualTo(maxIterations);
        // every step a global batch, but an epoch's last one may be short
        assertThat(Long.parseLong(m.group(3))).as(rank + ": samples").isBetween(maxIterations, maxIterations * batch);
        trained.add(m.group(2) + " iterations, " + m.group(3) + " samples");
        if (!m.group(4).startsWith("(")) { // "(rank 0 writes them)" on the other ranks
          writers.add(rank);
          Path checkpoint = subs.workDirs.get(rank).resolve(m.group(4)).toAbsolutePath().normalize();
          assertThat(checkpoint).as(rank + "'s checkpoint").exists();
          List<Path> volumes = stack.mounts(rank).stream().filter(v -> !v.bind()).map(v -> subs.hostDir(rank, v)).toList();
          assertThat(volumes).as(rank + " writes its checkpoint " + checkpoint + " on a volume the file mounts (else it is lost "
              + "with the container)").anySatisfy(v -> assertThat(checkpoint).startsWith(v));
          assertThat(volumes).as(rank + " writes its metrics on a volume the file mounts")
              .anySatisfy(v -> assertThat(find(v, "metrics.jsonl")).isNotEmpty());
        }
      }
      assertThat(writers).as("one rank writes the checkpoints").hasSize(1);
      assertThat(trained).as("the ranks trained together: the same steps, the same samples").hasSize(1);

      // the services still running pass their health checks
      for (Service s : running.values()) {
        if (s.process.isAlive()) {
          assertThat(healthCheck(stack, s.name, subs)).as(s.name + " passes its health check\n" + s.tail()).isTrue();
        }
      }

      // every process under its service's memory limit
      Map<String, String> memory = new LinkedHashMap<>();
      for (Service s : running.values()) {
        long peak = rss.peak(s.process.pid());
        long limit = stack.memoryLimit(s.name).orElseThrow();
        memory.put(s.name, (peak >> 20) + " / " + (limit >> 20) + " MB");
        assertThat(peak).as(s.name + ": peak RSS against its memory limit").isLessThan(limit);
      }
      log.info("COMPOSE peak RSS against the limits: {}; test took {} s", memory, seconds(started));

      for (Service s : running.values()) {
        if (s.process.isAlive()) {
          s.process.destroy(); // SIGTERM, as `docker compose stop`
          assertThat(s.process.waitFor(30, TimeUnit.SECONDS)).as(s.name + " stops on SIGTERM\n" + s.tail()).isTrue();
        }
      }
    } finally {
      rss.close();
      for (Service s : running.values()) {
        if (s.process.isAlive()) {
          s.process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------

  /** A service running as a process: its name, the process, its log. */
  record Service(String name, Process process, Path log) {

    String output() {
      try {
        return Files.exists(log) ? Files.readString(log) : "";
      } catch (IOException e) {
        return "(no log: " + e + ")";
      }
    }

    String tail() {
      List<String> lines = output().lines().toList();
      return "--- " + name + " (" + log + ") ---\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    }
  }

  private static String tails(Map<String, Service> running) {
    StringBuilder b = new StringBuilder();
    running.values().forEach(s -> b.append(s.tail()).append('\n'));
    return b.toString();
  }

  /** The first service whose command is {@code subcommand}. */
  private static String serviceRunning(ComposeStack stack, String subcommand) {
    return stack.appServices().stream().filter(s -> stack.command(s).get(0).equals(subcommand)).findFirst()
        .orElseThrow(() -> new AssertionError("no service runs " + subcommand));
  }

  /** Whether every depends_on condition of {@code service} holds (the broker is always up). */
  private static boolean canStart(ComposeStack stack, String service, Map<String, Service> running, Set<String> healthy,
      Substitutions subs) throws Exception {
    for (Map.Entry<String, String> dep : stack.dependsOn(service).entrySet()) {
      if (dep.getKey().equals(stack.brokerService())) {
        continue;
      }
      Service d = running.get(dep.getKey());
      if (d == null) {
        return false;
      }
      switch (dep.getValue()) {
        case "service_completed_successfully" -> {
          if (d.process.isAlive()) {
            return false;
          }
          assertThat(d.process.exitValue()).as(d.name + " must complete for " + service + "\n" + d.tail()).isZero();
        }
        case "service_healthy" -> {
          assertThat(d.process.isAlive()).as(d.name + " ended before it was healthy\n" + d.tail()).isTrue();
          if (!healthy.contains(d.name)) {
            if (!healthCheck(stack, d.name, subs)) {
              return false;
            }
            healthy.add(d.name);
          }
        }
        default -> { } // service_started
      }
    }
    return true;
  }

  /** Runs the service's health check as the compose file gives it (its ports substituted). */
  private static boolean healthCheck(ComposeStack stack, String service, Substitutions subs) throws Exception {
    JsonNode check = stack.service(service).path("healthcheck");
    List<String> test = new ArrayList<>();
    check.path("test").forEach(t -> test.add(subs.healthCheckArgument(service, t.asText())));
    List<String> command = switch (test.get(0)) {
      case "CMD" -> test.subList(1, test.size());
      case "CMD-SHELL" -> List.of("sh", "-c", String.join(" ", test.subList(1, test.size())));
      default -> throw new AssertionError(service + ": health check " + test);
    };
    long timeout = durationSeconds(check.path("timeout").asText("30s"));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    if (!p.waitFor(timeout, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return false;
    }
    return p.exitValue() == 0;
  }

  private static long durationSeconds(String compose) {
    Matcher m = Pattern.compile("(\\d+)(ms|s|m)").matcher(compose);
    long seconds = 0;
    while (m.find()) {
      long n = Long.parseLong(m.group(1));
      seconds += switch (m.group(2)) {
        case "ms" -> Math.max(1, n / 1000);
        case "m" -> n * 60;
        default -> n;
      };
    }
    return Math.max(1, seconds);
  }

  /** The port the upload endpoint of {@code service} listens on: the one it publishes besides its health check's. */
  private static int uploadPort(ComposeStack stack, String service, Substitutions subs) {
    String check = String.join(" ", textsOf(stack.service(service).path("healthcheck").path("test")));
    Matcher m = Pattern.compile("/dev/tcp/[^/]+/(\\d+)").matcher(check);
    assertThat(m.find()).as(service + "'s health check port").isTrue();
    List<String> others = stack.containerPorts(service).stream().filter(p -> !p.equals(m.group(1))).distinct().toList();
    assertThat(others).as(service + " publishes one port besides its metrics").hasSize(1);
    return subs.portsOf.get(service).get(others.get(0));
  }

  private static List<String> textsOf(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  /** Starts one service as a process (see {@link Substitutions}). */
  private static Service start(ComposeStack stack, String service, Substitutions subs, Map<String, List<String>> scaleDown,
      Path logs, PeakRss rss) throws IOException {
    Dockerfile image = stack.dockerfileOf(service);
    List<String> command = new ArrayList<>();
    List<String> given = stack.command(service);
    command.add(given.get(0)); // the subcommand (ingest) is no host name (the ingest service)
    for (String arg : given.subList(1, given.size())) {
      command.add(subs.value(service, arg));
    }
    String subcommand = command.get(0);
    List<String> args = withFlags(command, scaleDown.getOrDefault(subcommand, List.of()));

    ComposeStack.JarManifest manifest = stack.distributionManifest();
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(subs.jvmOptions(image.jvmOptions()));
    for (String opens : manifest.addOpens()) {
      if (!cmd.contains(opens + "=ALL-UNNAMED")) {
        cmd.addAll(List.of("--add-opens", opens + "=ALL-UNNAMED"));
      }
    }
    URL logback = AlexKafkaCli.class.getResource("/logback.xml");
    assertThat(logback).as("the distribution's logback.xml").isNotNull();
    cmd.add("-Dlogback.configurationFile=" + logback);
    cmd.addAll(List.of("-cp", classPath(image, stack), manifest.mainClass()));
    cmd.addAll(args);

    ProcessBuilder pb = new ProcessBuilder(cmd).directory(subs.workDirs.get(service).toFile()).redirectErrorStream(true);
    Path log = logs.resolve(service + ".log");
    pb.redirectOutput(log.toFile());
    Map<String, String> env = pb.environment();
    Map<String, String> parent = new HashMap<>(env);
    env.clear();
    // what the image itself provides: PATH, a HOME (its WORKDIR), the locale
    env.put("PATH", parent.getOrDefault("PATH", "/usr/bin:/bin"));
    env.put("HOME", subs.workDirs.get(service).toString());
    for (String keep : List.of("LANG", "LC_ALL", "TZ")) {
      if (parent.containsKey(keep)) {
        env.put(keep, parent.get(keep));
      }
    }
    stack.environment(service).forEach((k, v) -> env.put(k, subs.value(service, v)));
    env.putAll(Substitutions.SCALE_DOWN_ENV.getOrDefault(subcommand, Map.of()));
    Process process = pb.start();
    rss.watch(process);
    int removed = System.getProperty("java.class.path").split(File.pathSeparator).length
        - classPath(image, stack).split(File.pathSeparator).length;
    ComposeServicesAsProcessesIT.log.info("COMPOSE started {} (pid {}) on the class path of {} ({} entries of this test's left out): {} | env {}",
        service, process.pid(), stack.root.relativize(image.path()), removed, args, new TreeMap<>(env));
    return new Service(service, process, log);
  }

  /** The class path of a service's image: this test's, less the jars the image's Dockerfile removes. */
  private static String classPath(Dockerfile image, ComposeStack stack) {
    List<String> kept = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      String name = ComposeStack.jarName(Path.of(entry));
      if (name == null || !image.removesFromLib(name)) {
        kept.add(entry);
      }
    }
    return String.join(File.pathSeparator, kept);
  }

  /** {@code args} with each flag of {@code flags} (pairs) set: its value replaced where given, else appended. */
  static List<String> withFlags(List<String> args, List<String> flags) {
    List<String> out = new ArrayList<>(args);
    for (int f = 0; f < flags.size(); f += 2) {
      String flag = flags.get(f);
      String value = flags.get(f + 1);
      int at = out.indexOf(flag);
      int eq = -1;
      for (int i = 0; i < out.size(); i++) {
        if (out.get(i).startsWith(flag + "=")) {
          eq = i;
        }
      }
      if (at >= 0 && at + 1 < out.size()) {
        out.set(at + 1, value);
      } else if (eq >= 0) {
        out.set(eq, flag + "=" + value);
      } else {
        out.addAll(List.of(flag, value));
      }
    }
    return out;
  }

  private static String flagValue(List<String> flags, String flag) {
    return flags.get(flags.indexOf(flag) + 1);
  }

  /** The first of {@code names} that {@code subcommand} has (an option being renamed). */
  private static String option(CommandLine cli, String subcommand, String... names) {
    CommandLine sub = cli.getSubcommands().get(subcommand);
    for (String n : names) {
      if (sub.getCommandSpec().findOption(n) != null) {
        return n;
      }
    }
    throw new AssertionError(subcommand + " has none of " + List.of(names));
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static List<Path> find(Path dir, String fileName) {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(f -> f.getFileName().toString().equals(fileName)).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static long seconds(long since) {
    return TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - since);
  }

  private static boolean accepts(int port) {
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
      return true;
    } catch (java.io.IOException e) {
      return false;
    }
  }

  private static void awaitTrue(BooleanSupplier condition, Duration timeout, Supplier<String> what) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + timeout.toSeconds() + " s: " + what.get());
      }
      Thread.sleep(250);
    }
  }

  // ---------------------------------------------------------------------------------------------

  /** One photo of testdata/imagenette-mini: where it is, its class, its split, its id (SHA-256 of the file, as ingest computes it). */
  record Photo(Path source, String wnid, boolean train, String id) {

    void copyInto(Path root) {
      try {
        Path target = root.resolve(train ? "train" : "val").resolve(wnid).resolve(source.getFileName());
        Files.createDirectories(target.getParent());
        Path part = target.resolveSibling("." + target.getFileName() + ".part");
        Files.copy(source, part);
        Files.move(part, target); // never seen half-written
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /**
   * The photos: per class, {@value #FIRST_WAVE_TRAIN} training and {@value #VAL_PER_CLASS}
   * held-out ones in the folder before ingest starts, one more training photo each into the
   * watched folder later, and one photo of the first class through the upload endpoint.
   */
  record Photos(List<Photo> firstWave, List<Photo> secondWave, Photo upload) {

    static Photos plan() throws IOException {
      Path mini = null;
      for (Path p = Path.of("").toAbsolutePath(); p != null && mini == null; p = p.getParent()) {
        if (Files.isDirectory(p.resolve("testdata/imagenette-mini"))) {
          mini = p.resolve("testdata/imagenette-mini");
        }
      }
      assertThat(mini).as("testdata/imagenette-mini").isNotNull();
      List<Photo> first = new ArrayList<>();
      List<Photo> second = new ArrayList<>();
      Photo upload = null;
      List<Path> classes;
      try (Stream<Path> s = Files.list(mini.resolve("train"))) {
        classes = s.filter(Files::isDirectory).sorted().limit(CLASSES).toList();
      }
      for (Path dir : classes) {
        String wnid = dir.getFileName().toString();
        List<Path> train = sorted(dir);
        List<Path> val = sorted(mini.resolve("val").resolve(wnid));
        for (int i = 0; i < FIRST_WAVE_TRAIN; i++) {
          first.add(photo(train.get(i), wnid, true));
        }
        for (int i = 0; i < VAL_PER_CLASS; i++) {
          first.add(photo(val.get(i), wnid, false));
        }
        second.add(photo(train.get(FIRST_WAVE_TRAIN), wnid, true));
        if (upload == null) {
          upload = photo(train.get(FIRST_WAVE_TRAIN + 1), wnid, true);
        }
      }
      return new Photos(first, second, upload);
    }

    List<Photo> all() {
      List<Photo> all = new ArrayList<>(firstWave);
      all.addAll(secondWave);
      all.add(upload);
      return all;
    }

    Set<String> ids(boolean train) {
      Set<String> ids = new LinkedHashSet<>();
      all().stream().filter(p -> p.train() == train).forEach(p -> ids.add(p.id()));
      return ids;
    }

    private static List<Path> sorted(Path dir) throws IOException {
      try (Stream<Path> s = Files.list(dir)) {
        return s.filter(Files::isRegularFile).sorted().toList();
      }
    }

    private static Photo photo(Path file, String wnid, boolean train) {
      try {
        return new Photo(file, wnid, train, HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file))));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (java.security.NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /** Every record of a topic counted by key, read_committed, as far as {@link #catchUp()} has read. */
  static final class Tally implements AutoCloseable {

    final String topic;
    private final KafkaConsumer<String, byte[]> consumer;
    private final List<TopicPartition> partitions;
    private final Map<String, Integer> counts = new HashMap<>();
    private long records;

    Tally(String bootstrap, String topic) {
      this.topic = topic;
      consumer = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
          ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed", ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
          ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 8 * 1024 * 1024), new StringDeserializer(), new ByteArrayDeserializer());
      partitions = consumer.partitionsFor(topic, Duration.ofSeconds(60)).stream()
          .map(p -> new TopicPartition(topic, p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
    }

    /** Reads up to the last stable offsets as of now. */
    Tally catchUp() {
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(30));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (partitions.stream().anyMatch(tp -> consumer.position(tp, Duration.ofSeconds(30)) < end.get(tp))
          && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          records++;
          counts.merge(r.key(), 1, Integer::sum);
        }
      }
      return this;
    }

    long records() {
      return records;
    }

    Map<String, Integer> counts() {
      return new TreeMap<>(counts);
    }

    @Override
    public void close() {
      consumer.close(Duration.ofSeconds(5));
    }
  }

  /** Peak resident memory (VmHWM) of the processes, sampled from /proc every 200 ms until each ends. */
  static final class PeakRss implements AutoCloseable {

    private final Map<Long, Long> peaks = new ConcurrentHashMap<>();
    private final List<Process> watched = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Thread sampler;
    private volatile boolean closed;

    PeakRss() {
      sampler = new Thread(() -> {
        while (!closed) {
          for (Process p : watched) {
            if (p.isAlive()) {
              sample(p.pid());
            }
          }
          try {
            Thread.sleep(200);
          } catch (InterruptedException e) {
            return;
          }
        }
      }, "peak-rss");
      sampler.setDaemon(true);
      sampler.start();
    }

    void watch(Process p) {
      watched.add(p);
      sample(p.pid());
    }

    private void sample(long pid) {
      try {
        for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
          if (line.startsWith("VmHWM:")) {
            long kb = Long.parseLong(line.replaceAll("[^0-9]", ""));
            peaks.merge(pid, kb << 10, Math::max);
          }
        }
      } catch (IOException | RuntimeException e) {
        // the process has just ended
      }
    }

    long peak(long pid) {
      sample(pid);
      return peaks.getOrDefault(pid, 0L);
    }

    @Override
    public void close() {
      closed = true;
      sampler.interrupt();
    }
  }
}
