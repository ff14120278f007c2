package org.alexkafka.augment.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.alexkafka.schemas.serde.AvroSerde;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/** A topic's committed records (read_committed) from the beginning, for tests that count them exactly. */
public final class CommittedRecords {

  private CommittedRecords() {
  }

  /**
   * Reads until {@code done} holds or {@code timeoutSeconds} pass, then 1.5 s more: anything beyond
   * the expected count shows up (counts must be exact).
   */
  public static <T extends SpecificRecord> List<ConsumerRecord<String, T>> read(String bootstrap, String topic,
      AvroSerde<T> serde, Predicate<List<ConsumerRecord<String, T>>> done, int timeoutSeconds) {
    Map<String, Object> props = new HashMap<>();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<ConsumerRecord<String, T>> got = new ArrayList<>();
    try (KafkaConsumer<String, T> consumer = new KafkaConsumer<>(props, new StringDeserializer(), serde)) {
      consumer.assign(consumer.partitionsFor(topic).stream().map(p -> new TopicPartition(topic, p.partition())).toList());
      consumer.seekToBeginning(consumer.assignment());
      long deadline = System.currentTimeMillis() + timeoutSeconds * 1000L;
      while (!done.test(got) && System.currentTimeMillis() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(got::add);
      }
      long settle = System.currentTimeMillis() + 1500;
      while (System.currentTimeMillis() < settle) {
        consumer.poll(Duration.ofMillis(200)).forEach(got::add);
      }
    }
    return got;
  }
}
