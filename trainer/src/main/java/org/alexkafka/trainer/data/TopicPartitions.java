package org.alexkafka.trainer.data;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/** The partitions of one topic for a consumer that reads them by assignment, not by group. */
final class TopicPartitions {

  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private final KafkaConsumer<?, ?> consumer;
  private final String topic;
  private final List<Integer> partitions;

  /** Looks the partitions up and assigns them all to {@code consumer}. */
  TopicPartitions(KafkaConsumer<?, ?> consumer, String topic) {
    this.consumer = consumer;
    this.topic = topic;
    var infos = consumer.partitionsFor(topic, TIMEOUT);
    if (infos == null || infos.isEmpty()) {
      throw new IllegalStateException("topic " + topic + " does not exist or has no partitions");
    }
    this.partitions = infos.stream().map(p -> p.partition()).sorted().toList();
    consumer.assign(partitions.stream().map(this::tp).toList());
  }

  TopicPartition tp(int partition) {
    return new TopicPartition(topic, partition);
  }

  List<Integer> numbers() {
    return partitions;
  }

  /** The current end offsets of every partition. */
  Map<Integer, Long> endOffsetsNow() {
    Map<Integer, Long> out = new TreeMap<>();
    consumer.endOffsets(partitions.stream().map(this::tp).toList(), TIMEOUT).forEach((tp, off) -> out.put(tp.partition(), off));
    return out;
  }
}
