package org.alexkafka.schemas.config;

import org.alexkafka.schemas.topics.Topics;
import picocli.CommandLine.Option;

/**
 * Where the topics are: the options every service shares (a picocli mixin). Every option of every
 * service reads a flag first, then an environment variable, then a default, written
 * {@code defaultValue = "${env:NAME:-default}"}.
 */
public class KafkaOptions {

  @Option(names = "--bootstrap-servers", defaultValue = "${env:BOOTSTRAP_SERVERS:-localhost:9092}",
      description = "Kafka bootstrap servers (env BOOTSTRAP_SERVERS, default ${DEFAULT-VALUE}).")
  String bootstrapServers;

  @Option(names = "--topic-prefix", defaultValue = "${env:TOPIC_PREFIX:-}",
      description = "Prefix for every topic name, to run several pipelines on one cluster (env TOPIC_PREFIX).")
  String topicPrefix;

  public KafkaConnection toConnection() {
    return new KafkaConnection(bootstrapServers, new Topics(topicPrefix));
  }
}
