package org.alexkafka.schemas.config;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import org.alexkafka.schemas.topics.Topics;
import org.apache.kafka.clients.CommonClientConfigs;

/**
 * The cluster a service talks to, how it logs in there (the client settings: security.protocol,
 * sasl.*, ssl.* or any other client key; see {@link KafkaClientSettings}) and the topics it uses.
 */
public record KafkaConnection(String bootstrapServers, Topics topics, Map<String, String> settings) {

  public KafkaConnection {
    Map<String, String> copy = new TreeMap<>(settings == null ? Map.of() : settings);
    // bootstrapServers is the one place for the address
    copy.remove(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG);
    settings = Collections.unmodifiableMap(copy);
  }

  /** A cluster reached without extra client settings (PLAINTEXT, as the embedded broker). */
  public KafkaConnection(String bootstrapServers, Topics topics) {
    this(bootstrapServers, topics, Map.of());
  }

  /** Client properties every producer, consumer, admin client and Streams app starts from: the settings and bootstrap.servers. */
  public Map<String, Object> clientProperties() {
    Map<String, Object> props = new HashMap<>(settings);
    props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    return props;
  }

  /** The same cluster and settings with other topics. */
  public KafkaConnection withTopics(Topics other) {
    return new KafkaConnection(bootstrapServers, other, settings);
  }

  /** The settings with secrets hidden: what may be logged. */
  public Map<String, String> maskedSettings() {
    return KafkaClientSettings.masked(settings);
  }

  /** Secrets hidden (sasl.jaas.config, passwords, keys): a connection may be logged. */
  @Override
  public String toString() {
    return "KafkaConnection[bootstrapServers=" + bootstrapServers + ", topics=" + topics + ", settings=" + maskedSettings() + "]";
  }
}
