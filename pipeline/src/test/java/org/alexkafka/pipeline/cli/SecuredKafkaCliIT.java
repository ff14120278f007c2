package org.alexkafka.pipeline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.alexkafka.broker.EmbeddedKafkaBroker;
import org.alexkafka.broker.EmbeddedKafkaBroker.ScramUser;
import org.alexkafka.ingest.publish.ProducerSettings;
import org.alexkafka.schemas.config.KafkaClientSettings;
import org.alexkafka.schemas.config.KafkaConnection;
import org.alexkafka.schemas.config.KafkaOptions;
import org.alexkafka.schemas.topics.TopicSpec;
import org.alexkafka.schemas.topics.Topics;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * The services against a broker that wants a SCRAM login (the embedded broker's SASL_PLAINTEXT
 * listener), configured as a user would: {@code --kafka-config FILE} or {@code KAFKA_CLIENT_*}
 * variables. The right credentials work through the real command code (topics, ingest; a record
 * round-trips); wrong ones stop the command promptly with one line and no stack trace.
 */
class SecuredKafkaCliIT {

  private static final String USER = "alexkafka";
  private static final String PASSWORD = "s3cret-pw";
  private static final Duration PROMPT = Duration.ofSeconds(45);

  private static EmbeddedKafkaBroker broker;
  @TempDir
  static Path dir;
  private static Path goodConfig;
  private static Path badConfig;

  @BeforeAll
  static void start() throws IOException {
    broker = EmbeddedKafkaBroker.startWithScram(new ScramUser(USER, PASSWORD));
    goodConfig = write("good.properties", EmbeddedKafkaBroker.scramClientSettings(USER, PASSWORD));
    badConfig = write("bad.properties", EmbeddedKafkaBroker.scramClientSettings(USER, "not-the-password"));
  }

  @AfterAll
  static void stop() {
    if (broker != null) {
      broker.close();
    }
  }

  private static Path write(String name, Map<String, String> settings) throws IOException {
    Properties properties = new Properties();
    properties.putAll(settings);
    Path file = dir.resolve(name);
    try (var out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      properties.store(out, "Kafka client settings, as for kafka-topics.sh --command-config");
    }
    return file;
  }

  /** What a command printed: picocli's out and err, and the process's stdout/stderr (prints, logs). */
  record Run(int exitCode, String out, String err, String console, Duration took) {
    List<String> errLines() {
      return err.lines().filter(l -> !l.isBlank()).toList();
    }

    String everything() {
      return out + err + console;
    }
  }

  private static Run alexkafka(String... args) {
    CommandLine cli = AlexKafkaCli.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    PrintStream stdout = System.out;
    PrintStream stderr = System.err;
    PrintStream capture = new PrintStream(console, true, StandardCharsets.UTF_8);
    long started = System.nanoTime();
    int exitCode;
    System.setOut(capture);
    System.setErr(capture);
    try {
      exitCode = cli.execute(args);
    } finally {
      System.setOut(stdout);
      System.setErr(stderr);
    }
    Run run = new Run(exitCode, out.toString(), err.toString(), console.toString(StandardCharsets.UTF_8),
        Duration.ofNanos(System.nanoTime() - started));
    stdout.println("alexkafka " + String.join(" ", args) + " -> " + exitCode + " in " + run.took().toMillis() + " ms\n"
        + run.console() + run.out() + run.err());
    return run;
  }

  private static String freshPrefix() {
    return "secure-" + UUID.randomUUID().toString().substring(0, 8) + ".";
  }

  /** An admin client on the PLAINTEXT listener: sees what the services did without logging in. */
  private static Admin plaintextAdmin() {
    return Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()));
  }

  private static void assertNoStackTrace(Run run) {
    assertThat(run.everything()).as("no stack trace anywhere")
        .doesNotContainPattern("(?m)^\\s+at [\\w$.]+\\(").doesNotContain("Exception in thread").doesNotContain("Caused by:");
  }

  @Test
  void topicsCreatesEveryTopicWithTheCredentialsOfTheConfigFile() throws Exception {
    String prefix = freshPrefix();
    Run run = alexkafka("topics", "--bootstrap-servers", broker.saslBootstrapServers(), "--kafka-config", goodConfig.toString(),
        "--topic-prefix", prefix);
    assertThat(run.exitCode()).as(run.everything()).isZero();
    assertThat(run.console()).contains("created").doesNotContain(PASSWORD);
    try (Admin admin = plaintextAdmin()) {
      assertThat(admin.listTopics().names().get(30, TimeUnit.SECONDS))
          .containsAll(new Topics(prefix).all().stream().map(TopicSpec::name).toList());
    }
  }

  @Command(name = "service")
  static final class Service implements Runnable {
    @Mixin
    KafkaOptions kafka = new KafkaOptions();

    @Override
    public void run() {}
  }

  private static KafkaConnection parse(Map<String, String> environment, String... args) {
    Service service = new Service();
    new CommandLine(service).parseArgs(args);
    return service.kafka.toConnection(environment);
  }

  private static void roundTrip(KafkaConnection connection) throws Exception {
    String topic = connection.topics().prefix() + "round-trip";
    try (Admin admin = Admin.create(connection.clientProperties())) {
      admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
    }
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(connection.clientProperties(), new StringSerializer(),
        new StringSerializer())) {
      producer.send(new ProducerRecord<>(topic, "k", "logged in")).get(30, TimeUnit.SECONDS);
    }
    Map<String, Object> props = new HashMap<>(connection.clientProperties());
    props.put(ConsumerConfig.GROUP_ID_CONFIG, "secured-" + UUID.randomUUID());
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
      consumer.subscribe(List.of(topic));
      List<String> values = new ArrayList<>();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (values.isEmpty() && System.nanoTime() < deadline) {
        ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(500));
        records.forEach(r -> values.add(r.value()));
      }
      assertThat(values).containsExactly("logged in");
    }
  }

  @Test
  void aRecordRoundTripsThroughTheOptionsOfTheConfigFile() throws Exception {
    // bootstrap.servers from the file as well: no --bootstrap-servers given
    Map<String, String> settings = new HashMap<>(EmbeddedKafkaBroker.scramClientSettings(USER, PASSWORD));
    settings.put("bootstrap.servers", broker.saslBootstrapServers());
    Path file = write("with-bootstrap.properties", settings);
    KafkaConnection connection = parse(Map.of(), "--kafka-config", file.toString(), "--topic-prefix", freshPrefix());
    assertThat(connection.bootstrapServers()).isEqualTo(broker.saslBootstrapServers());
    assertThat(connection.clientProperties()).containsEntry("security.protocol", "SASL_PLAINTEXT")
        .containsEntry("sasl.mechanism", EmbeddedKafkaBroker.SCRAM_MECHANISM);
    roundTrip(connection);
  }

  @Test
  void aRecordRoundTripsThroughTheOptionsOfKafkaClientVariables() throws Exception {
    Map<String, String> environment = new HashMap<>();
    EmbeddedKafkaBroker.scramClientSettings(USER, PASSWORD).forEach((k, v) -> environment.put(KafkaClientSettings.variableOf(k), v));
    assertThat(environment).containsKeys("KAFKA_CLIENT_SECURITY_PROTOCOL", "KAFKA_CLIENT_SASL_MECHANISM", "KAFKA_CLIENT_SASL_JAAS_CONFIG");
    // the variables override a file's wrong password
    KafkaConnection connection = parse(environment, "--bootstrap-servers", broker.saslBootstrapServers(),
        "--kafka-config", badConfig.toString(), "--topic-prefix", freshPrefix());
    assertThat(connection.toString()).doesNotContain(PASSWORD);
    roundTrip(connection);
  }

  @Test
  void ingestPublishesWithTheCredentialsOfTheConfigFile() throws Exception {
    Path folder = dir.resolve("photos");
    Path classDir = Files.createDirectories(folder.resolve("train").resolve("n01440764"));
    Path source = projectData().resolve("imagenette-mini/train/n01440764");
    try (Stream<Path> photos = Files.list(source)) {
      for (Path photo : photos.sorted().limit(2).toList()) {
        Files.copy(photo, classDir.resolve(photo.getFileName()));
      }
    }
    String prefix = freshPrefix();
    Run run = alexkafka("ingest", "--bootstrap-servers", broker.saslBootstrapServers(), "--kafka-config", goodConfig.toString(),
        "--topic-prefix", prefix, "--image-size", "64", "--threads", "1", "--no-progress", folder.toString());
    assertThat(run.exitCode()).as(run.everything()).isZero();
    Topics topics = new Topics(prefix);
    try (Admin admin = plaintextAdmin()) {
      Map<TopicPartition, OffsetSpec> ends = new HashMap<>();
      for (int p = 0; p < topics.all().stream().filter(t -> t.name().equals(topics.images())).findFirst().orElseThrow().partitions(); p++) {
        ends.put(new TopicPartition(topics.images(), p), OffsetSpec.latest());
      }
      long published = admin.listOffsets(ends).all().get(30, TimeUnit.SECONDS).values().stream().mapToLong(o -> o.offset()).sum();
      assertThat(published).as("images published over SASL").isEqualTo(2);
    }
  }

  private static Path projectData() {
    Path d = Path.of("").toAbsolutePath();
    while (d != null && !Files.isDirectory(d.resolve("testdata"))) {
      d = d.getParent();
    }
    return d.resolve("testdata");
  }

  @ParameterizedTest
  @ValueSource(strings = {"topics", "ingest", "augment", "train"})
  void aWrongPasswordStopsTheServiceWithOneClearLine(String command) throws Exception {
    List<String> args = new ArrayList<>(List.of(command, "--bootstrap-servers", broker.saslBootstrapServers(),
        "--kafka-config", badConfig.toString(), "--topic-prefix", freshPrefix()));
    if (command.equals("ingest")) {
      args.add(Files.createDirectories(dir.resolve("empty-photos")).toString());
    }
    if (command.equals("augment")) {
      args.addAll(List.of("--state-dir", dir.resolve("augment-state").toString()));
    }
    if (command.equals("train")) {
      args.addAll(List.of("--checkpoint-dir", dir.resolve("ckpt").toString(), "--run-dir", dir.resolve("run").toString(),
          "--stats-timeout", "20"));
    }
    Run run = alexkafka(args.toArray(String[]::new));
    assertThat(run.exitCode()).as(run.everything()).isEqualTo(1);
    assertThat(run.errLines()).as(run.everything()).singleElement().asString()
        .isEqualTo("Kafka refused the credentials at " + broker.saslBootstrapServers()
            + ": Authentication failed during authentication due to invalid credentials with SASL mechanism "
            + EmbeddedKafkaBroker.SCRAM_MECHANISM);
    assertNoStackTrace(run);
    assertThat(run.everything()).doesNotContain("not-the-password");
    assertThat(run.took()).as("stops promptly").isLessThan(PROMPT);
  }

  @Test
  void theImageProducerGivesUpAtOnceOnAWrongPassword() {
    KafkaConnection connection = parse(Map.of(), "--bootstrap-servers", broker.saslBootstrapServers(), "--kafka-config",
        badConfig.toString(), "--topic-prefix", freshPrefix());
    long started = System.nanoTime();
    // the ingest producer waits up to 10 minutes for a broker that is down; a refused login must not wait
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
        ProducerSettings.forImages(connection.clientProperties(), "none"))) {
      assertThatThrownBy(() -> producer.send(new ProducerRecord<>(connection.topics().images(), "id", new byte[16]))
          .get(PROMPT.toSeconds(), TimeUnit.SECONDS))
          .satisfies(e -> assertThat(AlexKafkaCli.expectedFailure(e, connection.bootstrapServers()))
              .startsWith("Kafka refused the credentials at " + broker.saslBootstrapServers() + ": "));
    }
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(PROMPT);
  }

  @Test
  void verboseAddsTheStackTrace() {
    Run run = alexkafka("--verbose", "topics", "--bootstrap-servers", broker.saslBootstrapServers(), "--kafka-config",
        badConfig.toString(), "--topic-prefix", freshPrefix());
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).contains("SaslAuthenticationException").containsPattern("(?m)^\\s+at [\\w$.]+\\(");
  }

  @Test
  void aMissingConfigFileIsOneLineToo() {
    Path missing = dir.resolve("no-such.properties");
    Run run = alexkafka("topics", "--bootstrap-servers", broker.saslBootstrapServers(), "--kafka-config", missing.toString());
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.errLines()).singleElement().asString().contains("--kafka-config").contains("no such file")
        .contains(missing.toString());
    assertNoStackTrace(run);
  }

  @Test
  void anInvalidClientSettingIsOneLine() throws IOException {
    Path file = write("invalid.properties", Map.of("security.protocol", "SASL_PLAINTEXTT"));
    Run run = alexkafka("topics", "--bootstrap-servers", broker.saslBootstrapServers(), "--kafka-config", file.toString());
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.errLines()).singleElement().asString().startsWith("Kafka client configuration: ").contains("SASL_PLAINTEXTT");
    assertNoStackTrace(run);
  }

  @Test
  void usageErrorsStayPicocliUsageErrors() {
    Run run = alexkafka("topics", "--no-such-flag");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("Unknown option");
  }
}
