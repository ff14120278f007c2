package org.alexkafka.schemas.topics;

import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.admin.NewTopic;

/** A topic's name and the settings it is created with. */
public record TopicSpec(String name, int partitions, Map<String, String> configs) {

  public NewTopic toNewTopic(short replicationFactor) {
    return new NewTopic(name, Optional.of(partitions), Optional.of(replicationFactor)).configs(configs);
  }

  /** The largest record the topic accepts, in bytes. */
  public int maxMessageBytes() {
    return Integer.parseInt(configs.getOrDefault("max.message.bytes", String.valueOf(Topics.DEFAULT_MAX_MESSAGE_BYTES)));
  }
}
