package org.alexkafka.augment.topology;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.alexkafka.schemas.Rejection;
import org.alexkafka.schemas.serde.RecordSerdes;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the dead letters of Kafka Streams' error handlers, which cannot forward records into the
 * topology: a producer of its own on the app's connection settings, made on the first dead letter
 * only (Streams makes one handler per stream thread and gives it no close hook, so it lives as
 * long as the thread). The write is outside any Streams transaction: a crash between the write and
 * the commit may write it twice.
 */
final class DeadLetterWriter {

  /** Streams config key carrying the rejected topic's name to the handlers. */
  static final String REJECTED_TOPIC_CONFIG = "alexkafka.rejected.topic";

  private static final Logger log = LoggerFactory.getLogger(DeadLetterWriter.class);
  private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(30);

  private final Map<String, Object> producerConfig = new HashMap<>();
  private String rejectedTopic;
  private KafkaProducer<String, byte[]> producer;

  void configure(Map<String, ?> configs, String clientIdPrefix) {
    rejectedTopic = (String) configs.get(REJECTED_TOPIC_CONFIG);
    if (rejectedTopic == null) {
      throw new IllegalArgumentException(REJECTED_TOPIC_CONFIG + " is not set");
    }
    // the app's connection settings (bootstrap servers, security), none of Streams' own
    configs.forEach((k, v) -> {
      if (k.equals(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG) || k.equals(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG)
          || k.startsWith("ssl.") || k.startsWith("sasl.")) {
        producerConfig.put(k, v);
      }
    });
    producerConfig.put(ProducerConfig.ACKS_CONFIG, "all");
    producerConfig.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    producerConfig.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, WRITE_TIMEOUT.toMillis());
    producerConfig.put(ProducerConfig.CLIENT_ID_CONFIG, clientIdPrefix + Thread.currentThread().getName());
  }

  /** Writes the rejection (key {@code source}); false when it could not be written. */
  boolean write(Rejection rejection) {
    String source = rejection.getSource();
    try {
      producer().send(new ProducerRecord<>(rejectedTopic, source, RecordSerdes.rejection().serialize(rejectedTopic, rejection)))
          .get(WRITE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      log.error("could not dead-letter {} to {}; stopping rather than skipping it", source, rejectedTopic, e);
      return false;
    }
  }

  private synchronized KafkaProducer<String, byte[]> producer() {
    if (producer == null) {
      producer = new KafkaProducer<>(producerConfig, new StringSerializer(), new ByteArraySerializer());
    }
    return producer;
  }
}
