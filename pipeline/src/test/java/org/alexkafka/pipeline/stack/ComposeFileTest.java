package org.alexkafka.pipeline.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.alexkafka.pipeline.cli.AlexKafkaCli;
import org.alexkafka.pipeline.cli.ConfigTable;
import org.alexkafka.schemas.config.KafkaClientSettings;
import org.alexkafka.schemas.topics.Topics;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * docker-compose.yml checked offline (no Docker engine here): the compose-spec schema via dclint,
 * and agreement between what the stack sets and what the application reads.
 */
class ComposeFileTest {

  private static final List<String> APP_SERVICES = List.of("topics", "ingest", "augment", "trainer", "trainer-1");
  private static Path root;
  private static JsonNode services;
  private static CommandLine cli;

  @BeforeAll
  static void load() throws Exception {
    root = Path.of("").toAbsolutePath();
    while (!Files.exists(root.resolve("docker-compose.yml"))) {
      root = root.getParent();
    }
    services = new ObjectMapper(new YAMLFactory()).readTree(root.resolve("docker-compose.yml").toFile()).get("services");
    cli = AlexKafkaCli.commandLine();
  }

  private static Map<String, String> environment(String service) {
    Map<String, String> env = new java.util.TreeMap<>();
    services.get(service).path("environment").fields().forEachRemaining(e -> env.put(e.getKey(), e.getValue().asText()));
    return env;
  }

  private static String subcommand(String service) {
    return services.get(service).get("command").get(0).asText();
  }

  private static Set<String> containerPorts(String service) {
    Set<String> ports = new HashSet<>();
    services.get(service).path("ports").forEach(p -> {
      String[] parts = p.asText().split(":");
      ports.add(parts[parts.length - 1]);
    });
    services.get(service).path("expose").forEach(p -> ports.add(p.asText()));
    return ports;
  }

  @Test
  void everyServiceRunsAnExistingSubcommandAndSetsOnlyVariablesItReads() {
    for (String service : APP_SERVICES) {
      String command = subcommand(service);
      assertThat(cli.getSubcommands()).as(service + " runs `%s`", command).containsKey(command);
      Set<String> read = new HashSet<>();
      for (ConfigTable.Row row : ConfigTable.rows(cli)) {
        if (row.command().isEmpty() || row.command().equals(command)) {
          read.add(row.env());
        }
      }
      // KAFKA_CLIENT_<KEY> is read by every service's Kafka options (KafkaClientSettings), not by one option each
      Set<String> set = new HashSet<>(environment(service).keySet());
      set.removeIf(name -> KafkaClientSettings.keyOf(name) != null);
      assertThat(read).as("variables `%s` reads", command).containsAll(set);
    }
  }

  @Test
  void everyServiceTakesTheKafkaClientSettingsTheSameWay() {
    for (String service : APP_SERVICES) {
      JsonNode envFile = services.get(service).path("env_file");
      assertThat(envFile).as(service + " reads kafka-client.env").hasSize(1);
      assertThat(envFile.get(0).get("path").asText()).as(service).isEqualTo("kafka-client.env");
      assertThat(envFile.get(0).get("required").asBoolean(true)).as(service + ": the file is optional").isFalse();
    }
    assertThat(services.get("kafka").has("env_file"))
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
    Map<String, String> kafka = environment("kafka");
    String advertised = kafka.get("KAFKA_ADVERTISED_LISTENERS").replace("PLAINTEXT://", "");
    assertThat(Long.parseLong(kafka.get("KAFKA_MESSAGE_MAX_BYTES"))).isGreaterThanOrEqualTo(Topics.STATS_MAX_MESSAGE_BYTES);
    assertThat(kafka.get("KAFKA_AUTO_CREATE_TOPICS_ENABLE")).as("topics come from the registry").isEqualTo("false");
    Set<String> prefixes = new HashSet<>();
    for (String service : APP_SERVICES) {
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
    assertThat(services.get("trainer").at("/build/dockerfile").asText()).isEqualTo("trainer/Dockerfile");
    assertThat(root.resolve("trainer/Dockerfile")).content(StandardCharsets.UTF_8)
        .contains("-Pgpu").contains("FROM eclipse-temurin:17-jre").contains("platform.extension=-gpu")
        .contains("java.base/sun.nio.ch").doesNotContain("nvidia/cuda");
  }

  @Test
  void passesTheComposeSpecSchemaCheck() throws Exception {
    String dclint = findDclint();
    if (dclint == null) {
      assertThat(System.getenv("CI")).as("dclint missing on CI: .ci/run installs it").isNotEqualTo("true");
      assumeTrue(false, "dclint not installed here (npm install --prefix target/tools dclint@3.1.0, as .ci/run does)");
    }
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
    File local = root.resolve("target/tools/node_modules/.bin/dclint").toFile();
    return local.canExecute() ? local.getPath() : null;
  }
}
