package org.alexkafka.schemas.config;

import java.nio.file.Path;
import java.util.Map;
import org.alexkafka.schemas.topics.Topics;
import org.apache.kafka.clients.CommonClientConfigs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Option;

/**
 * Where the topics are and how to log in there: the options every service shares (a picocli mixin).
 * Every option of every service reads a flag first, then an environment variable, then a default,
 * written {@code defaultValue = "${env:NAME:-default}"}.
 *
 * <p>Client settings (security and any other client key) come from {@code --kafka-config FILE}
 * ({@code KAFKA_CONFIG}), a Java properties file as Kafka's tools take with {@code --command-config},
 * and from {@code KAFKA_CLIENT_*} variables, which override the file's keys ({@link KafkaClientSettings}).
 * {@code bootstrap.servers}: {@code --bootstrap-servers}, else {@code BOOTSTRAP_SERVERS}, else
 * {@code KAFKA_CLIENT_BOOTSTRAP_SERVERS}, else the file's {@code bootstrap.servers}, else {@value #DEFAULT_BOOTSTRAP}.
 */
public class KafkaOptions {

  public static final String DEFAULT_BOOTSTRAP = "localhost:9092";
  private static final Logger log = LoggerFactory.getLogger(KafkaOptions.class);

  @Option(names = "--bootstrap-servers", defaultValue = "${env:BOOTSTRAP_SERVERS:-}",
      description = "Kafka bootstrap servers (env BOOTSTRAP_SERVERS); if unset, KAFKA_CLIENT_BOOTSTRAP_SERVERS, else "
          + "bootstrap.servers of --kafka-config, else " + DEFAULT_BOOTSTRAP + ".")
  String bootstrapServers;

  @Option(names = "--topic-prefix", defaultValue = "${env:TOPIC_PREFIX:-}",
      description = "Prefix for every topic name, to run several pipelines on one cluster (env TOPIC_PREFIX).")
  String topicPrefix;

  @Option(names = "--kafka-config", paramLabel = "FILE", defaultValue = "${env:KAFKA_CONFIG:-}",
      description = "Kafka client properties file (security.protocol, the sasl. and ssl. settings, any client setting), as Kafka's "
          + "tools take with --command-config; KAFKA_CLIENT_ variables override its keys (KAFKA_CLIENT_SASL_JAAS_CONFIG sets "
          + "sasl.jaas.config) (env KAFKA_CONFIG).")
  String kafkaConfig;

  private volatile KafkaConnection resolved;

  /** The connection from the options and this process's environment. */
  public KafkaConnection toConnection() {
    return toConnection(System.getenv());
  }

  /** The connection from the options and {@code environment} (its {@code KAFKA_CLIENT_*} variables). */
  public KafkaConnection toConnection(Map<String, String> environment) {
    Path file = blank(kafkaConfig) ? null : Path.of(kafkaConfig);
    Map<String, String> settings = KafkaClientSettings.resolve(file, environment);
    String fromSettings = settings.get(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG);
    String bootstrap = !blank(bootstrapServers) ? bootstrapServers.strip()
        : !blank(fromSettings) ? fromSettings.strip() : DEFAULT_BOOTSTRAP;
    KafkaConnection connection = new KafkaConnection(bootstrap, new Topics(topicPrefix == null ? "" : topicPrefix), settings);
    resolved = connection;
    if (!connection.settings().isEmpty()) {
      boolean fromEnvironment = !KafkaClientSettings.fromEnvironment(environment).isEmpty();
      String sources = (file == null ? "" : file + (fromEnvironment ? " and " : ""))
          + (fromEnvironment ? KafkaClientSettings.ENV_PREFIX + "* variables" : "");
      log.info("Kafka at {} with client settings {} (from {})", bootstrap, connection.maskedSettings(), sources);
    }
    return connection;
  }

  /** The connection {@link #toConnection} last made (null before): what an error message names. */
  public KafkaConnection resolvedConnection() {
    return resolved;
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }
}
