package org.alexkafka.schemas.config;

import java.util.HashMap;
import java.util.Map;
import org.alexkafka.schemas.topics.Topics;
import org.apache.kafka.clients.CommonClientConfigs;

/** The cluster a service talks to and the topics it uses there. */
public record KafkaConnection(String bootstrapServers, Topics topics) {

  /** Client properties every producer, consumer, admin client and Streams app starts from. */
  public Map<String, Object> clientProperties() {
    Map<String, Object> props = new HashMap<>();
    props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    return props;
  }
}
