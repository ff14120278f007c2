package org.alexkafka.ingest.publish;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.alexkafka.schemas.serde.RecordSerdes;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the label of one image record at a known place on the images topic: how a picture
 * uploaded again is compared with the label it was first published under in an earlier run. One
 * consumer, made on first use, assigned to one partition at a time (no group, nothing committed).
 */
public final class PublishedLabelReader implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(PublishedLabelReader.class);

  private final Map<String, Object> clientProps;
  private final String topic;
  private final Duration timeout;
  private KafkaConsumer<byte[], byte[]> consumer;
  private boolean closed;

  public PublishedLabelReader(Map<String, Object> clientProps, String topic, Duration timeout) {
    this.clientProps = clientProps;
    this.topic = topic;
    this.timeout = timeout;
  }

  /** The label of the image at {@code at}; empty if it cannot be read (deleted by retention, Kafka away). */
  public synchronized Optional<String> labelAt(ImageLocation at) {
    if (closed) {
      return Optional.empty();
    }
    TopicPartition tp = new TopicPartition(topic, at.partition());
    try {
      KafkaConsumer<byte[], byte[]> c = consumer();
      c.assign(List.of(tp));
      c.seek(tp, at.offset());
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
          if (r.offset() == at.offset() && r.value() != null) {
            return Optional.of(RecordSerdes.image().deserialize(topic, r.value()).getLabel().toString());
          }
          if (r.offset() >= at.offset()) {
            return Optional.empty(); // the record is gone (retention): nothing to compare with
          }
        }
      }
      log.warn("could not read the image at {}@{} within {} s", tp, at.offset(), timeout.toSeconds());
    } catch (RuntimeException e) {
      log.warn("could not read the image at {}@{}: {}", tp, at.offset(), e.toString());
    }
    return Optional.empty();
  }

  private KafkaConsumer<byte[], byte[]> consumer() {
    if (consumer == null) {
      Map<String, Object> props = new HashMap<>(clientProps);
      props.remove(ConsumerConfig.GROUP_ID_CONFIG);
      props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
      props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
      props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1);
      consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }
    return consumer;
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (consumer != null) {
      consumer.close();
      consumer = null;
    }
  }
}
