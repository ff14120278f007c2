package org.alexkafka.schemas.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.alexkafka.schemas.topics.Topics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

class KafkaClientSettingsTest {

  private static final String JAAS = "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"alice\" password=\"s3cret\";";

  @TempDir
  Path dir;

  @Command(name = "service")
  static final class Service implements Runnable {
    @Mixin
    KafkaOptions kafka = new KafkaOptions();

    @Override
    public void run() {}
  }

  private static KafkaOptions parse(String... args) {
    Service service = new Service();
    new CommandLine(service).parseArgs(args);
    return service.kafka;
  }

  @Test
  void anEnvironmentVariableNamesItsClientKey() {
    assertThat(KafkaClientSettings.keyOf("KAFKA_CLIENT_SECURITY_PROTOCOL")).isEqualTo("security.protocol");
    assertThat(KafkaClientSettings.keyOf("KAFKA_CLIENT_SASL_MECHANISM")).isEqualTo("sasl.mechanism");
    assertThat(KafkaClientSettings.keyOf("KAFKA_CLIENT_SASL_JAAS_CONFIG")).isEqualTo("sasl.jaas.config");
    assertThat(KafkaClientSettings.keyOf("KAFKA_CLIENT_SSL_TRUSTSTORE_LOCATION")).isEqualTo("ssl.truststore.location");
    assertThat(KafkaClientSettings.keyOf("KAFKA_CLIENT_SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL"))
        .isEqualTo("sasl.oauthbearer.token.endpoint.url");
    assertThat(KafkaClientSettings.keyOf("KAFKA_CLIENT_")).isNull();
    assertThat(KafkaClientSettings.keyOf("KAFKA_CONFIG")).isNull();
    assertThat(KafkaClientSettings.keyOf("BOOTSTRAP_SERVERS")).isNull();
    assertThat(KafkaClientSettings.variableOf("sasl.jaas.config")).isEqualTo("KAFKA_CLIENT_SASL_JAAS_CONFIG");
  }

  @Test
  void onlyNonEmptyKafkaClientVariablesBecomeSettings() {
    Map<String, String> env = Map.of(
        "KAFKA_CLIENT_SECURITY_PROTOCOL", "SASL_PLAINTEXT",
        "KAFKA_CLIENT_SASL_MECHANISM", "SCRAM-SHA-512",
        "KAFKA_CLIENT_SASL_JAAS_CONFIG", JAAS,
        "KAFKA_CLIENT_CLIENT_DNS_LOOKUP", "use_all_dns_ips",
        "KAFKA_CLIENT_SSL_KEYSTORE_LOCATION", "",
        "KAFKA_CONFIG", "/somewhere",
        "PATH", "/usr/bin",
        "KAFKA_HEAP_OPTS", "-Xmx1g");
    assertThat(KafkaClientSettings.fromEnvironment(env)).containsExactlyInAnyOrderEntriesOf(Map.of(
        "security.protocol", "SASL_PLAINTEXT",
        "sasl.mechanism", "SCRAM-SHA-512",
        "sasl.jaas.config", JAAS,
        "client.dns.lookup", "use_all_dns_ips"));
  }

  @Test
  void theFileIsReadAsJavaPropertiesAndVariablesOverrideItsKeys() throws Exception {
    Path file = dir.resolve("client.properties");
    Files.writeString(file, """
        # as for kafka-topics.sh --command-config
        security.protocol=SASL_SSL
        sasl.mechanism=SCRAM-SHA-256
        sasl.jaas.config=%s
        ssl.truststore.location=/etc/kafka/truststore.jks
        """.formatted(JAAS));
    assertThat(KafkaClientSettings.resolve(file, Map.of("KAFKA_CLIENT_SASL_MECHANISM", "SCRAM-SHA-512")))
        .containsExactlyInAnyOrderEntriesOf(Map.of(
            "security.protocol", "SASL_SSL",
            "sasl.mechanism", "SCRAM-SHA-512",
            "sasl.jaas.config", JAAS,
            "ssl.truststore.location", "/etc/kafka/truststore.jks"));
    assertThat(KafkaClientSettings.resolve(null, Map.of())).isEmpty();
  }

  @Test
  void aMissingFileIsAConfigurationError() {
    assertThatThrownBy(() -> KafkaClientSettings.resolve(dir.resolve("nope.properties"), Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--kafka-config").hasMessageContaining("no such file").hasMessageContaining("nope.properties");
  }

  @Test
  void secretsAreMaskedWhereverTheSettingsArePrinted() {
    Map<String, String> settings = Map.of(
        "security.protocol", "SASL_SSL",
        "sasl.jaas.config", JAAS,
        "ssl.keystore.password", "kspw",
        "ssl.key.password", "kpw",
        "ssl.truststore.password", "tspw",
        "ssl.keystore.key", "-----BEGIN PRIVATE KEY-----",
        "sasl.oauthbearer.token.endpoint.url", "https://idp/token",
        "sasl.oauthbearer.client.credentials.client.secret", "oauth-secret");
    Map<String, String> masked = KafkaClientSettings.masked(settings);
    assertThat(masked).containsEntry("security.protocol", "SASL_SSL")
        .containsEntry("sasl.oauthbearer.token.endpoint.url", "https://idp/token")
        .containsEntry("sasl.jaas.config", KafkaClientSettings.HIDDEN)
        .containsEntry("ssl.keystore.password", KafkaClientSettings.HIDDEN)
        .containsEntry("ssl.key.password", KafkaClientSettings.HIDDEN)
        .containsEntry("ssl.truststore.password", KafkaClientSettings.HIDDEN)
        .containsEntry("ssl.keystore.key", KafkaClientSettings.HIDDEN)
        .containsEntry("sasl.oauthbearer.client.credentials.client.secret", KafkaClientSettings.HIDDEN);
    String printed = new KafkaConnection("broker:9093", Topics.DEFAULT, settings).toString();
    assertThat(printed).contains("broker:9093", "SASL_SSL").doesNotContain("s3cret", "kspw", "kpw", "tspw", "oauth-secret", "PRIVATE");
  }

  @Test
  void theTwoArgumentConnectionHasNoExtraSettings() {
    KafkaConnection plain = new KafkaConnection("127.0.0.1:9092", Topics.DEFAULT);
    assertThat(plain.settings()).isEmpty();
    assertThat(plain.clientProperties()).containsExactlyEntriesOf(Map.of("bootstrap.servers", "127.0.0.1:9092"));
  }

  @Test
  void clientPropertiesCarryTheSettingsAndTheOneBootstrapAddress() throws Exception {
    Path file = dir.resolve("client.properties");
    Files.writeString(file, "security.protocol=SASL_PLAINTEXT\nsasl.jaas.config=" + JAAS + "\nbootstrap.servers=from-file:9093\n");
    KafkaConnection connection = parse("--kafka-config", file.toString(), "--topic-prefix", "t.").toConnection(
        Map.of("KAFKA_CLIENT_SASL_MECHANISM", "SCRAM-SHA-512"));
    assertThat(connection.clientProperties()).containsExactlyInAnyOrderEntriesOf(Map.of(
        "bootstrap.servers", "from-file:9093",
        "security.protocol", "SASL_PLAINTEXT",
        "sasl.mechanism", "SCRAM-SHA-512",
        "sasl.jaas.config", JAAS));
    assertThat(connection.topics()).isEqualTo(new Topics("t."));
    assertThat(connection.withTopics(Topics.DEFAULT).settings()).isEqualTo(connection.settings());
  }

  @Test
  void bootstrapServersFlagWinsOverTheVariableWhichWinsOverTheFile() throws Exception {
    Path file = dir.resolve("client.properties");
    Files.writeString(file, "bootstrap.servers=from-file:9093\n");
    String f = file.toString();
    assertThat(parse("--kafka-config", f).toConnection(Map.of()).bootstrapServers()).isEqualTo("from-file:9093");
    assertThat(parse("--kafka-config", f).toConnection(Map.of("KAFKA_CLIENT_BOOTSTRAP_SERVERS", "from-env:9093"))
        .bootstrapServers()).isEqualTo("from-env:9093");
    assertThat(parse("--kafka-config", f, "--bootstrap-servers", "from-flag:9093")
        .toConnection(Map.of("KAFKA_CLIENT_BOOTSTRAP_SERVERS", "from-env:9093")).bootstrapServers()).isEqualTo("from-flag:9093");
    assertThat(parse().toConnection(Map.of()).bootstrapServers()).isEqualTo(KafkaOptions.DEFAULT_BOOTSTRAP);
    assertThat(parse().toConnection(Map.of()).settings()).isEmpty();
  }
}
