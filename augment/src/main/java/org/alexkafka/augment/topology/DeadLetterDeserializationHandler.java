package org.alexkafka.augment.topology;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.alexkafka.schemas.Rejection;
import org.alexkafka.schemas.serde.RecordSerdes;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dead-letters the records Kafka Streams itself cannot deserialize: those of the global tables
 * (labels, published statistics); the images topic is read as bytes and its poison records are
 * dead-lettered by {@link AugmentProcessor}. Each goes to {@code images.rejected} as a
 * {@code poison-record} {@link Rejection} naming its topic, partition and offset, with its bytes,
 * before processing continues. When the rejection cannot be written the app stops instead:
 * nothing is skipped without a record of it.
 *
 * <p>Streams makes one handler per stream thread and gives it no close hook, so the producer is
 * made on the first poison record only and lives as long as the thread. The rejection is written
 * outside any Streams transaction: a crash between the write and the commit may write it twice.
 */
public final class DeadLetterDeserializationHandler implements DeserializationExceptionHandler {

  /** Streams config key carrying the rejected topic's name to the handler. */
  public static final String REJECTED_TOPIC_CONFIG = "alexkafka.rejected.topic";

  private static final Logger log = LoggerFactory.getLogger(DeadLetterDeserializationHandler.class);
  private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(30);

  private final Map<String, Object> producerConfig = new HashMap<>();
  private String rejectedTopic;
  private KafkaProducer<String, byte[]> producer;

  @Override
  public void configure(Map<String, ?> configs) {
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
    producerConfig.put(ProducerConfig.CLIENT_ID_CONFIG, "augment-dead-letters-" + Thread.currentThread().getName());
  }

  @Override
  public DeserializationHandlerResponse handle(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record,
      Exception exception) {
    String source = record.topic() + "-" + record.partition() + "@" + record.offset();
    String detail = "cannot deserialize a record of " + record.topic() + ": " + exception.getMessage();
    log.warn("rejected {} ({}): {}", source, Rejections.POISON, detail);
    Rejection rejection = Rejections.of(source, Rejections.POISON, detail, null, record.value(), System.currentTimeMillis());
    try {
      producer().send(new ProducerRecord<>(rejectedTopic, source, RecordSerdes.rejection().serialize(rejectedTopic, rejection)))
          .get(WRITE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      return DeserializationHandlerResponse.CONTINUE;
    } catch (Exception e) {
      log.error("could not dead-letter {} to {}; stopping rather than skipping it", source, rejectedTopic, e);
      return DeserializationHandlerResponse.FAIL;
    }
  }

  private synchronized KafkaProducer<String, byte[]> producer() {
    if (producer == null) {
      producer = new KafkaProducer<>(producerConfig, new StringSerializer(), new ByteArraySerializer());
    }
    return producer;
  }
}
