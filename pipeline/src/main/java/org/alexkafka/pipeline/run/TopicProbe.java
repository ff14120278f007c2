package org.alexkafka.pipeline.run;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.function.Predicate;
import org.alexkafka.schemas.Image;
import org.alexkafka.schemas.Split;
import org.alexkafka.schemas.Stats;
import org.alexkafka.schemas.config.KafkaConnection;
import org.alexkafka.schemas.serde.RecordSerdes;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Read-only questions the all-in-one run asks of its topics: sizes, lag, counts. */
final class TopicProbe implements AutoCloseable {

  private final KafkaConnection kafka;
  private final Admin admin;

  TopicProbe(KafkaConnection kafka) {
    this.kafka = kafka;
    this.admin = Admin.create(kafka.clientProperties());
  }

  private List<TopicPartition> partitions(String topic) throws ExecutionException, InterruptedException {
    return admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().stream()
        .map(p -> new TopicPartition(topic, p.partition())).toList();
  }

  /** Sum of a topic's end offsets: what an epoch starting now spans (records and transaction markers). */
  long endOffsetSum(String topic) throws ExecutionException, InterruptedException {
    var request = partitions(topic).stream().collect(java.util.stream.Collectors.toMap(tp -> tp, tp -> OffsetSpec.latest()));
    return admin.listOffsets(request).all().get().values().stream().mapToLong(i -> i.offset()).sum();
  }

  /** Committed records on a topic (end offsets would also count transaction markers). */
  long records(String topic) throws ExecutionException, InterruptedException {
    return count(topic, new org.apache.kafka.common.serialization.ByteArrayDeserializer(), bytes -> true);
  }

  /** How many records of {@code topic} the consumer group has not committed yet. */
  long lag(String group, String topic) throws ExecutionException, InterruptedException {
    Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(Map.of(group, new ListConsumerGroupOffsetsSpec()))
        .partitionsToOffsetAndMetadata(group).get();
    var request = partitions(topic).stream().collect(java.util.stream.Collectors.toMap(tp -> tp, tp -> OffsetSpec.latest()));
    long lag = 0;
    for (var end : admin.listOffsets(request).all().get().entrySet()) {
      OffsetAndMetadata done = committed.get(end.getKey());
      lag += end.getValue().offset() - (done == null ? 0 : done.offset());
    }
    return lag;
  }

  /** Counts the records of a topic, from the beginning to its current end, that match. */
  <T> long count(String topic, Deserializer<T> values, Predicate<T> matching) throws ExecutionException, InterruptedException {
    long matched = 0;
    try (KafkaConsumer<String, T> consumer = consumer(values)) {
      List<TopicPartition> parts = partitions(topic);
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      Map<TopicPartition, Long> ends = consumer.endOffsets(parts);
      while (parts.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))) {
        for (ConsumerRecord<String, T> r : consumer.poll(Duration.ofMillis(200))) {
          if (matching.test(r.value())) {
            matched++;
          }
        }
      }
    }
    return matched;
  }

  long trainImages() throws ExecutionException, InterruptedException {
    return count(kafka.topics().images(), RecordSerdes.image(), (Image i) -> i.getSplit() == Split.TRAIN);
  }

  /** Number of images the latest statistics record counts, if there is one. */
  Optional<Long> statsCount() throws ExecutionException, InterruptedException {
    long[] latest = {-1};
    count(kafka.topics().stats(), RecordSerdes.stats(), (Stats s) -> {
      if (s != null) {
        latest[0] = s.getCount();
      }
      return true;
    });
    return latest[0] < 0 ? Optional.empty() : Optional.of(latest[0]);
  }

  private <T> KafkaConsumer<String, T> consumer(Deserializer<T> values) {
    Map<String, Object> props = kafka.clientProperties();
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 16 * 1024 * 1024);
    return new KafkaConsumer<>(props, new StringDeserializer(), values);
  }

  @Override
  public void close() {
    admin.close();
  }
}
