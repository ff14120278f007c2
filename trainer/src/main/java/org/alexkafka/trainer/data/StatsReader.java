package org.alexkafka.trainer.data;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.alexkafka.schemas.Stats;
import org.alexkafka.schemas.config.KafkaConnection;
import org.alexkafka.schemas.serde.RecordSerdes;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Reads the newest record of the compacted {@code stats} topic: the mean image the batches subtract. */
public final class StatsReader {

  private static final Logger log = LoggerFactory.getLogger(StatsReader.class);

  private StatsReader() {
  }

  /** Waits up to {@code timeout} for a stats record; throws with a clear message if none comes. */
  public static MeanImage latestMean(KafkaConnection kafka, Duration timeout) {
    String topic = kafka.topics().stats();
    Map<String, Object> props = kafka.clientProperties();
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 16 * 1024 * 1024);
    props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 16 * 1024 * 1024);
    long deadline = System.nanoTime() + timeout.toNanos();
    try (KafkaConsumer<String, Stats> consumer = new KafkaConsumer<>(props, new StringDeserializer(), RecordSerdes.stats())) {
      List<TopicPartition> parts = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
          .map(p -> new TopicPartition(topic, p.partition())).toList();
      consumer.assign(parts);
      while (true) {
        Stats newest = null;
        Map<TopicPartition, Long> ends = consumer.endOffsets(parts);
        consumer.seekToBeginning(parts);
        while (parts.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))) {
          for (var rec : consumer.poll(Duration.ofMillis(200))) {
            if (rec.value() != null && (newest == null || rec.value().getUpdatedAt().compareTo(newest.getUpdatedAt()) >= 0)) {
              newest = rec.value();
            }
          }
        }
        if (newest != null) {
          log.info("mean image from {} training images ({}x{})", newest.getCount(), newest.getWidth(), newest.getHeight());
          return MeanImage.of(newest);
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("no record on topic " + topic + " after " + timeout
              + ": the trainer needs the mean image (is the augment service running?)");
        }
        log.info("waiting for the mean image on {}", topic);
        sleep(1000);
      }
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for stats", e);
    }
  }
}
