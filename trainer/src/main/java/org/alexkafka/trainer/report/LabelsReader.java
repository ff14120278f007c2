package org.alexkafka.trainer.report;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.alexkafka.schemas.LabelEntry;
import org.alexkafka.schemas.config.KafkaConnection;
import org.alexkafka.schemas.serde.RecordSerdes;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the compacted {@code labels} topic up to its end: the newest entry of every class id. The
 * names only dress the report, so any failure (no topic, broker gone, a record that cannot be
 * decoded) gives fewer names and a log line, never an exception.
 */
public final class LabelsReader {

  private static final Logger log = LoggerFactory.getLogger(LabelsReader.class);

  private LabelsReader() {}

  public static ClassNames read(KafkaConnection kafka, Duration timeout) {
    String topic = kafka.topics().labels();
    Map<String, Object> props = kafka.clientProperties();
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    // never create the topic by asking for it: ingest creates it compacted, and a plain one would stay
    props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
    Map<String, LabelEntry> newest = new LinkedHashMap<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    try (KafkaConsumer<String, LabelEntry> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
        RecordSerdes.labelEntry())) {
      List<TopicPartition> parts = consumer.partitionsFor(topic, timeout).stream()
          .map(p -> new TopicPartition(topic, p.partition())).toList();
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      Map<TopicPartition, Long> ends = consumer.endOffsets(parts, timeout);
      while (parts.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp)) && System.nanoTime() < deadline) {
        try {
          for (ConsumerRecord<String, LabelEntry> rec : consumer.poll(Duration.ofMillis(200))) {
            if (rec.value() != null) {
              newest.put(rec.value().getClassId(), rec.value());
            }
          }
        } catch (RecordDeserializationException e) {
          log.warn("skipped a {} record at {} offset {}: {}", topic, e.topicPartition(), e.offset(), e.getMessage());
          consumer.seek(e.topicPartition(), e.offset() + 1);
        }
      }
    } catch (RuntimeException e) {
      log.warn("class names from {} not read ({}); the report shows class ids", topic, e.toString());
    }
    return new ClassNames(newest.values());
  }
}
