package org.alexkafka.pipeline.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipFile;
import org.alexkafka.pipeline.cli.AlexKafkaCli;
import org.alexkafka.pipeline.cli.ConfigTable;
import org.alexkafka.pipeline.stack.ComposeStack.Dockerfile;
import org.alexkafka.schemas.config.KafkaClientSettings;
import org.alexkafka.schemas.topics.Topics;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * docker-compose.yml and the Dockerfiles it builds, checked offline (no Docker engine here): the
 * compose-spec schema via dclint, agreement between what the stack sets and what the application
 * reads, health checks, memory limits against the JVMs' heaps, non-root images and their layers.
 * {@link ComposeServicesAsProcessesIT} then runs the services as the file gives them.
 */
class ComposeFileTest {

  /** Variables a service's JVM reads itself, not the application: its options (the heap). */
  private static final Set<String> JVM_VARIABLES = Set.of("JAVA_TOOL_OPTIONS");
  /**
   * The least a memory limit must leave above the heap: a JVM's own memory outside it (metaspace,
   * code cache, thread stacks, GC, direct buffers) measured 80-140 MB per service (LoadIT, NMT).
   */
  private static final long OFF_HEAP_MIN = 256L << 20;
  /** What a JavaCPP process's limit must leave above maxPhysicalBytes: JavaCPP checks it only when it allocates. */
  private static final long ABOVE_PHYSICAL_MIN = 1L << 30;
  /** Packages only the trainer loads: the slim image must carry none of them. */
  private static final List<String> TRAINER_ONLY_PACKAGES = List.of("org/alexkafka/trainer/", "org/nd4j/",
      "org/deeplearning4j/", "org/bytedeco/");
  /** Packages topics, ingest and augment load: the slim image must keep them. */
  private static final List<String> SLIM_PACKAGES = List.of("org/alexkafka/pipeline/", "org/alexkafka/ingest/",
      "org/alexkafka/augment/", "org/alexkafka/schemas/", "org/apache/kafka/streams/", "org/apache/kafka/clients/",
      "org/rocksdb/", "picocli/", "ch/qos/logback/", "org/eclipse/jetty/server/", "io/micrometer/");

  private static ComposeStack stack;
  private static JsonNode services;
  private static CommandLine cli;
  private static List<String> appServices;

  @BeforeAll
  static void load() {
    stack = ComposeStack.load();
    services = stack.services();
    cli = AlexKafkaCli.commandLine();
    appServices = stack.appServices();
  }

  private static Map<String, String> environment(String service) {
    return stack.environment(service);
  }

  private static String subcommand(String service) {
    return stack.command(service).get(0);
  }

  private static Set<String> containerPorts(String service) {
    return new HashSet<>(stack.containerPorts(service));
  }

  @Test
  void everyServiceRunsAnExistingSubcommandAndSetsOnlyVariablesItReads() {
    assertThat(appServices).contains("topics", "ingest", "augment", "trainer", "trainer-1");
    for (String service : appServices) {
      String command = subcommand(service);
      assertThat(cli.getSubcommands()).as(service + " runs `%s`", command).containsKey(command);
      // the whole command line is one the CLI takes (the image's entrypoint is `java ... -jar alexkafka.jar`)
      List<String> args = stack.command(service);
      CommandLine fresh = AlexKafkaCli.commandLine();
      fresh.parseArgs(args.toArray(String[]::new));
      Set<String> read = new HashSet<>();
      for (ConfigTable.Row row : ConfigTable.rows(cli)) {
        if (row.command().isEmpty() || row.command().equals(command)) {
          read.add(row.env());
        }
      }
      // KAFKA_CLIENT_<KEY> is read by every service's Kafka options (KafkaClientSettings), not by one option each
      Set<String> set = new HashSet<>(environment(service).keySet());
      set.removeIf(name -> KafkaClientSettings.keyOf(name) != null);
      set.removeAll(JVM_VARIABLES);
      assertThat(read).as("variables `%s` reads", command).containsAll(set);
    }
  }

  @Test
  void everyServiceTakesTheKafkaClientSettingsTheSameWay() {
    for (String service : appServices) {
      JsonNode envFile = services.get(service).path("env_file");
      assertThat(envFile).as(service + " reads kafka-client.env").hasSize(1);
      assertThat(envFile.get(0).get("path").asText()).as(service).isEqualTo("kafka-client.env");
      assertThat(envFile.get(0).get("required").asBoolean(true)).as(service + ": the file is optional").isFalse();
    }
    assertThat(services.get(stack.brokerService()).has("env_file"))
        .as("the broker image would read KAFKA_CLIENT_* as broker settings (client.*)").isFalse();
    Set<String> rootOptions = new HashSet<>();
    for (ConfigTable.Row row : ConfigTable.rows(cli)) {
      if (!row.env().isEmpty()) {
        rootOptions.add(row.command() + " " + row.env());
      }
    }
    for (String command : List.of("topics", "ingest", "augment", "train")) {
      assertThat(rootOptions).as(command + " reads a client properties file from KAFKA_CONFIG").contains(command + " KAFKA_CONFIG");
    }
    assertThat(KafkaClientSettings.keyOf("KAFKA_CLIENT_SASL_JAAS_CONFIG")).isEqualTo("sasl.jaas.config");
  }

  @Test
  void servicesReachTheBrokerAtItsAdvertisedListenerAndShareTheTopics() {
    Map<String, String> kafka = environment(stack.brokerService());
    String advertised = kafka.get("KAFKA_ADVERTISED_LISTENERS").replace("PLAINTEXT://", "");
    assertThat(Long.parseLong(kafka.get("KAFKA_MESSAGE_MAX_BYTES"))).isGreaterThanOrEqualTo(Topics.STATS_MAX_MESSAGE_BYTES);
    assertThat(kafka.get("KAFKA_AUTO_CREATE_TOPICS_ENABLE")).as("topics come from the registry").isEqualTo("false");
    Set<String> prefixes = new HashSet<>();
    for (String service : appServices) {
      assertThat(environment(service)).containsEntry("BOOTSTRAP_SERVERS", advertised);
      prefixes.add(environment(service).get("TOPIC_PREFIX"));
    }
    assertThat(prefixes).as("one set of topics for the whole stack").hasSize(1);
  }

  @Test
  void portsTheServicesListenOnArePublished() {
    for (String service : List.of("ingest", "augment", "trainer")) {
      assertThat(containerPorts(service)).as(service).contains(environment(service).get("METRICS_PORT"));
    }
    assertThat(containerPorts("ingest")).contains(environment("ingest").get("INGEST_HTTP_PORT"));
    assertThat(environment("ingest")).containsEntry("INGEST_WATCH", "true");
    assertThat(services.get("augment").has("ports")).as("augment scales with --scale: no fixed host port").isFalse();
    // a metrics port reached from outside the container (published, or scraped over the network) listens on every interface
    String bindVariable = ConfigTable.rows(cli).stream().filter(r -> r.flag().startsWith("--metrics-bind"))
        .map(ConfigTable.Row::env).findFirst().orElseThrow(() -> new AssertionError("no --metrics-bind option"));
    for (String service : appServices) {
      String port = environment(service).get("METRICS_PORT");
      if (port != null && containerPorts(service).contains(port)) {
        assertThat(environment(service)).as(service + ": its metrics port is published or exposed")
            .containsEntry(bindVariable, "0.0.0.0");
      }
    }
  }

  @Test
  void theTrainerRanksFormOneGroupWithAGpuEach() {
    List<String> ranks = List.of("trainer", "trainer-1");
    Set<String> gpus = new HashSet<>();
    for (int r = 0; r < ranks.size(); r++) {
      String service = ranks.get(r);
      Map<String, String> env = environment(service);
      assertThat(env).as(service).containsEntry("RANK", String.valueOf(r)).containsEntry("WORLD_SIZE",
          String.valueOf(ranks.size())).containsEntry("MASTER_ADDR", ranks.get(0)).containsEntry("TRAIN_ENGINE", "torch")
          .containsEntry("TRAIN_DEVICE", "cuda");
      assertThat(env.get("MASTER_PORT")).isEqualTo(environment(ranks.get(0)).get("MASTER_PORT"));
      JsonNode device = services.get(service).at("/deploy/resources/reservations/devices/0");
      assertThat(device.get("driver").asText()).isEqualTo("nvidia");
      assertThat(device.get("capabilities").get(0).asText()).isEqualTo("gpu");
      assertThat(device.get("device_ids")).as(service + " reserves one GPU").hasSize(1);
      gpus.add(device.get("device_ids").get(0).asText());
      assertThat(services.get(service).get("image").asText()).isEqualTo(services.get("trainer").get("image").asText());
    }
    assertThat(gpus).as("one GPU per rank").hasSize(ranks.size());
    assertThat(services.get("trainer-1").has("ports")).as("only rank 0's metrics on the host").isFalse();
    assertThat(containerPorts("trainer")).as("rank 0 serves the rendezvous").contains(environment("trainer").get("MASTER_PORT"));
    assertThat(services.get("trainer").at("/build/dockerfile").asText()).isEqualTo("trainer/Dockerfile");
    assertThat(stack.root.resolve("trainer/Dockerfile")).content(StandardCharsets.UTF_8)
        .contains("-Pgpu").contains("FROM eclipse-temurin:17-jre").contains("platform.extension=-gpu")
        .contains("java.base/sun.nio.ch").doesNotContain("nvidia/cuda");
  }

  @Test
  void everyServiceHasAHealthCheckAndAMemoryLimit() {
    for (String service : stack.serviceNames()) {
      JsonNode check = services.get(service).path("healthcheck");
      assertThat(check.path("disable").asBoolean(false)).as(service + ": health check disabled").isFalse();
      JsonNode test = check.path("test");
      assertThat(test.isArray() && test.size() >= 2).as(service + " has a health check command").isTrue();
      assertThat(test.get(0).asText()).as(service).isIn("CMD", "CMD-SHELL");
      for (String key : List.of("interval", "timeout", "retries")) {
        assertThat(check.has(key)).as(service + ": healthcheck." + key).isTrue();
      }
      assertThat(stack.memoryLimit(service)).as(service + ": deploy.resources.limits.memory").isPresent();
    }
    for (String service : appServices) {
      // GET /-/healthy on the metrics port, with bash alone: the JRE image has no curl, and a JVM per probe would cost more
      String test = String.join(" ", textsOf(services.get(service).path("healthcheck").path("test")));
      String port = environment(service).get("METRICS_PORT");
      assertThat(port).as(service + " serves the metrics port its health check asks").isNotNull();
      assertThat(test).as(service).contains("/-/healthy").contains("/dev/tcp/127.0.0.1/" + port + " ").contains(" 200 ")
          .doesNotContain("java").doesNotContain("curl").doesNotContain("wget").doesNotContain("$");
      assertThat(services.get(service).path("healthcheck").path("test").get(1).asText()).as(service + ": /dev/tcp is bash's")
          .isEqualTo("bash");
    }
    String broker = stack.brokerService();
    String probe = String.join(" ", textsOf(services.get(broker).path("healthcheck").path("test")));
    assertThat(probe).as("the broker's own tool, on its own listener, with a small heap of its own (not KAFKA_HEAP_OPTS's)")
        .contains("/opt/kafka/bin/kafka-broker-api-versions.sh").contains("localhost:9092").contains("KAFKA_HEAP_OPTS=-Xmx");
  }

  @Test
  void everyJvmHeapLiesBelowItsServicesMemoryLimit() {
    Map<String, String> figures = new LinkedHashMap<>();
    for (String service : appServices) {
      List<String> options = ComposeStack.splitOptions(environment(service).get("JAVA_TOOL_OPTIONS"));
      Dockerfile image = stack.dockerfileOf(service);
      assertThat(ComposeStack.jvmOption(image.jvmOptions(), "-Xmx"))
          .as(image.path() + ": an -Xmx in the entrypoint would win over the service's JAVA_TOOL_OPTIONS").isEmpty();
      long heap = ComposeStack.bytes(ComposeStack.jvmOption(options, "-Xmx")
          .orElseThrow(() -> new AssertionError(service + ": no -Xmx in JAVA_TOOL_OPTIONS, next to its memory limit")));
      long limit = stack.memoryLimit(service).orElseThrow();
      assertThat(heap + OFF_HEAP_MIN).as(service + ": heap + what a JVM needs outside it, against the limit").isLessThanOrEqualTo(limit);
      figures.put(service, (heap >> 20) + " MB heap / " + (limit >> 20) + " MB");
      boolean javacpp = image.jvmOptions().stream().anyMatch(o -> o.startsWith("-Dorg.bytedeco.javacpp."));
      if (javacpp) {
        // JavaCPP's defaults (maxBytes = the heap, maxPhysicalBytes = 4 x the heap) would let the process past the limit
        long maxBytes = ComposeStack.bytes(ComposeStack.jvmOption(options, "-Dorg.bytedeco.javacpp.maxBytes=")
            .orElseThrow(() -> new AssertionError(service + ": JavaCPP's maxBytes not set")));
        long maxPhysical = ComposeStack.bytes(ComposeStack.jvmOption(options, "-Dorg.bytedeco.javacpp.maxPhysicalBytes=")
            .orElseThrow(() -> new AssertionError(service + ": JavaCPP's maxPhysicalBytes not set")));
        assertThat(heap + maxBytes).as(service + ": heap + JavaCPP's own allocations within its cap on the process")
            .isLessThanOrEqualTo(maxPhysical);
        assertThat(maxPhysical + ABOVE_PHYSICAL_MIN).as(service + ": JavaCPP's cap on the process, under the limit")
            .isLessThanOrEqualTo(limit);
        figures.put(service, figures.get(service) + ", JavaCPP " + (maxBytes >> 20) + " / " + (maxPhysical >> 20) + " MB");
      }
    }
    String broker = stack.brokerService();
    List<String> brokerHeap = ComposeStack.splitOptions(environment(broker).get("KAFKA_HEAP_OPTS"));
    long heap = ComposeStack.bytes(ComposeStack.jvmOption(brokerHeap, "-Xmx")
        .orElseThrow(() -> new AssertionError("the broker's heap: KAFKA_HEAP_OPTS=-Xmx...")));
    String probe = String.join(" ", textsOf(services.get(broker).path("healthcheck").path("test")));
    long probeHeap = ComposeStack.bytes(probe.replaceFirst("(?s).*KAFKA_HEAP_OPTS=-Xmx(\\S+).*", "$1"));
    long limit = stack.memoryLimit(broker).orElseThrow();
    assertThat(heap + OFF_HEAP_MIN + probeHeap + OFF_HEAP_MIN).as("the broker's heap and its health check's tool, against the limit")
        .isLessThanOrEqualTo(limit);
    figures.put(broker, (heap >> 20) + " MB heap / " + (limit >> 20) + " MB");
    org.slf4j.LoggerFactory.getLogger(ComposeFileTest.class).info("memory: {}", figures);
  }

  @Test
  void ourImagesRunAsAUserOtherThanRoot() {
    for (String service : appServices) {
      Dockerfile image = stack.dockerfileOf(service);
      String user = image.user();
      assertThat(user).as(image.path() + ": USER in its last stage").isNotBlank();
      String uid = user.split(":")[0];
      assertThat(uid).as(image.path() + " runs as").isNotIn("root", "0");
      if (uid.matches("\\d+")) {
        assertThat(image.finalStage()).as(image.path() + " creates user " + uid)
            .anySatisfy(i -> assertThat(i.keyword() + " " + i.args()).startsWith("RUN").contains("useradd").contains("--uid " + uid));
      }
      assertThat(services.get(service).path("user").asText("")).as(service + ": no user override").isEmpty();
      // a named volume, created on first use, takes the owner of the image's directory at its mount point
      for (ComposeStack.Mount mount : stack.mounts(service)) {
        if (!mount.bind()) {
          assertThat(image.finalStage()).as(image.path() + ": " + mount.target() + " (volume " + mount.source()
              + ") made and owned by the user").anySatisfy(i -> assertThat(i.keyword() + " " + i.args()).startsWith("RUN")
              .contains("mkdir -p " + mount.target()).contains("chown " + uid));
        }
      }
    }
    // apache/kafka runs as its own appuser
    assertThat(services.get(stack.brokerService()).path("user").asText("")).isEmpty();
  }

  @Test
  void topicsIngestAndAugmentShareOneSlimImageAndTheTrainerHasItsOwn() {
    Map<String, Set<String>> imagesBySubcommand = new LinkedHashMap<>();
    for (String service : appServices) {
      imagesBySubcommand.computeIfAbsent(subcommand(service), c -> new TreeSet<>()).add(services.get(service).get("image").asText());
    }
    Set<String> slim = new TreeSet<>();
    for (String command : List.of("topics", "ingest", "augment")) {
      slim.addAll(imagesBySubcommand.get(command));
    }
    assertThat(slim).as("one image for topics, ingest and augment").hasSize(1);
    assertThat(imagesBySubcommand.get("train")).as("the trainer's image").hasSize(1).doesNotContainAnyElementsOf(slim);
    assertThat(stack.dockerfileOf("ingest").path()).isEqualTo(stack.root.resolve("pipeline/Dockerfile"));
    assertThat(stack.root.resolve("ingest/Dockerfile")).as("one Dockerfile for the slim image").doesNotExist();
    assertThat(stack.root.resolve("augment/Dockerfile")).as("one Dockerfile for the slim image").doesNotExist();
    for (String service : List.of("ingest", "trainer")) {
      Dockerfile image = stack.dockerfileOf(service);
      assertThat(image.baseImage(image.buildStage())).as(image.path() + " builds on").isEqualTo("eclipse-temurin:17-jdk");
      assertThat(image.baseImage(image.finalStage())).as(image.path() + " runs on").isEqualTo("eclipse-temurin:17-jre");
      assertThat(image.entrypointJar()).isEqualTo("/app/alexkafka.jar");
    }
  }

  @Test
  void theImagesFetchTheirDependenciesInALayerBeforeTheSources() {
    for (String service : List.of("ingest", "trainer")) {
      Dockerfile image = stack.dockerfileOf(service);
      List<Dockerfile.Instruction> build = image.buildStage();
      List<String> lines = build.stream().map(i -> i.keyword() + " " + i.args()).toList();
      int sources = indexOf(lines, l -> l.startsWith("COPY ") && (l.matches("COPY \\. \\S+") || l.contains("/src ")));
      assertThat(sources).as(image.path() + " copies the sources").isPositive();
      int resolve = indexOf(lines, l -> l.startsWith("RUN ") && l.contains("./mvnw"));
      assertThat(resolve).as(image.path() + ": Maven resolves before the sources come").isBetween(0, sources - 1);
      List<String> poms = new ArrayList<>(List.of("pom.xml"));
      stack.modules().forEach(m -> poms.add(m + "/pom.xml"));
      for (String pom : poms) {
        int copied = indexOf(lines, l -> l.startsWith("COPY ") && List.of(l.split("\\s+")).contains(pom));
        assertThat(copied).as(image.path() + " copies " + pom + " before Maven resolves (every module's: the reactor reads them)")
            .isBetween(0, resolve - 1);
      }
      int buildRun = indexOf(lines.subList(sources, lines.size()), l -> l.startsWith("RUN ") && l.contains("./mvnw")) + sources;
      assertThat(lines.get(buildRun)).as(image.path() + ": the build after the sources takes the layer's dependencies (offline)")
          .contains(" -o ").contains("package");
      assertThat(lines.get(resolve).contains("-Pgpu")).as(image.path() + ": both Maven runs with the same profiles")
          .isEqualTo(lines.get(buildRun).contains("-Pgpu"));
    }
  }

  @Test
  void theSlimImageCarriesNoTrainerClassAndKeepsWhatItsServicesLoad() throws IOException {
    Dockerfile slim = stack.dockerfileOf("ingest");
    assertThat(slim.removedFromLib()).as(slim.path() + " removes jars from the distribution").isNotEmpty();
    Set<String> kept = new TreeSet<>();
    Set<String> removed = new TreeSet<>();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      Path p = Path.of(entry);
      String name = ComposeStack.jarName(p);
      if (name == null) {
        continue;
      }
      boolean gone = slim.removesFromLib(name);
      (gone ? removed : kept).add(name);
      for (String pkg : TRAINER_ONLY_PACKAGES) {
        if (holds(p, pkg)) {
          assertThat(gone).as(name + " holds " + pkg + ": the slim image must not carry it (" + slim.path() + ")").isTrue();
        }
      }
      for (String pkg : SLIM_PACKAGES) {
        if (holds(p, pkg)) {
          assertThat(gone).as(name + " holds " + pkg + ", which topics, ingest or augment load: " + slim.path() + " removes it")
              .isFalse();
        }
      }
    }
    assertThat(removed).as("the trainer and its natives").anyMatch(n -> n.startsWith("trainer-"))
        .anyMatch(n -> n.startsWith("nd4j-native-")).anyMatch(n -> n.startsWith("pytorch-"));
  }

  @Test
  void passesTheComposeSpecSchemaCheck() throws Exception {
    String dclint = findDclint();
    if (dclint == null) {
      assertThat(System.getenv("CI")).as("dclint missing on CI: .ci/run installs it").isNotEqualTo("true");
      assumeTrue(false, "dclint not installed here (npm install --prefix target/tools dclint@3.1.0, as .ci/run does)");
    }
    Path root = stack.root;
    List<String> command = new ArrayList<>(List.of(dclint, "-c", root.resolve(".dclintrc.yaml").toString(),
        root.resolve("docker-compose.yml").toString()));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as(output).isZero();

    // The check is real: a broken file fails it.
    Path broken = Files.createTempFile("compose", ".yml");
    Files.writeString(broken, Files.readString(root.resolve("docker-compose.yml")).replace("condition: service_healthy", "condition: 3"));
    Process bad = new ProcessBuilder(dclint, "-c", root.resolve(".dclintrc.yaml").toString(), broken.toString())
        .redirectErrorStream(true).start();
    bad.getInputStream().readAllBytes();
    assertThat(bad.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(bad.exitValue()).isNotZero();
  }

  private static String findDclint() {
    String fromEnv = System.getenv("DCLINT");
    if (fromEnv != null && new File(fromEnv).canExecute()) {
      return fromEnv;
    }
    File local = stack.root.resolve("target/tools/node_modules/.bin/dclint").toFile();
    return local.canExecute() ? local.getPath() : null;
  }

  private static List<String> textsOf(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  private static int indexOf(List<String> lines, java.util.function.Predicate<String> p) {
    for (int i = 0; i < lines.size(); i++) {
      if (p.test(lines.get(i))) {
        return i;
      }
    }
    return -1;
  }

  private static boolean holds(Path entry, String pkg) {
    if (Files.isDirectory(entry)) {
      return Files.isDirectory(entry.resolve(pkg));
    }
    if (!Files.isRegularFile(entry)) {
      return false;
    }
    try (ZipFile zip = new ZipFile(entry.toFile())) {
      return zip.stream().anyMatch(e -> e.getName().startsWith(pkg));
    } catch (IOException e) {
      throw new UncheckedIOException(entry.toString(), e);
    }
  }
}
