package org.alexkafka.ingest.publish;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads a topic up to its end at the time of the call (start-up recovery). A record the
 * deserializers cannot decode is logged with its partition and offset and skipped.
 */
public final class TopicReader {

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(TopicReader.class);

  private TopicReader() {}

  /** From the beginning of every partition; returns the number of records read. */
  public static <K, V> long readToEnd(Map<String, Object> clientProps, String topic, Deserializer<K> keys,
      Deserializer<V> values, Duration timeout, BiConsumer<K, V> each) {
    return readToEnd(clientProps, topic, keys, values, Map.of(), timeout, r -> each.accept(r.key(), r.value()));
  }

  /**
   * From {@code startOffsets} (partition to first offset to read; a partition not in the map, or
   * whose start was deleted by retention, from its beginning); returns the number of records read.
   */
  public static <K, V> long readToEnd(Map<String, Object> clientProps, String topic, Deserializer<K> keys,
      Deserializer<V> values, Map<Integer, Long> startOffsets, Duration timeout, Consumer<ConsumerRecord<K, V>> each) {
    Map<String, Object> props = new HashMap<>(clientProps);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 8 * 1024 * 1024);
    long count = 0;
    try (KafkaConsumer<K, V> consumer = new KafkaConsumer<>(props, keys, values)) {
      List<TopicPartition> partitions = consumer.partitionsFor(topic, timeout).stream()
          .map(p -> new TopicPartition(topic, p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions, timeout);
      for (TopicPartition tp : partitions) {
        Long start = startOffsets.get(tp.partition());
        if (start != null && start > begin.get(tp)) {
          consumer.seek(tp, start);
        }
      }
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
      long deadline = System.nanoTime() + timeout.toNanos();
      while (partitions.stream().anyMatch(tp -> consumer.position(tp, timeout) < end.get(tp))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("could not read " + topic + " to its end within " + timeout);
        }
        try {
          for (ConsumerRecord<K, V> r : consumer.poll(Duration.ofMillis(200))) {
            each.accept(r);
            count++;
          }
        } catch (RecordDeserializationException e) { // a record this reader cannot decode: skipped, said, never fatal
          log.error("skipped undecodable record {} offset {} of {}: {}", e.topicPartition(), e.offset(), topic,
              e.getCause() == null ? e.getMessage() : e.getCause().getMessage());
          consumer.seek(e.topicPartition(), e.offset() + 1);
        }
      }
    }
    return count;
  }
}
