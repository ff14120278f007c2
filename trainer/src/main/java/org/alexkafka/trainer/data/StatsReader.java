package org.alexkafka.trainer.data;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.alexkafka.schemas.Stats;
import org.alexkafka.schemas.config.KafkaConnection;
import org.alexkafka.schemas.serde.RecordSerdes;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the newest usable record of the compacted {@code stats} topic: the mean image the batches
 * subtract. Only committed records count (augment writes them in exactly-once transactions). A
 * record that cannot be decoded (garbage, truncated, a schema fingerprint this trainer does not
 * know) or that gives no mean image (no images counted, pixel sums that do not fit its size) is
 * skipped, logged once with topic, partition and offset, and counted; the newest of the others
 * wins.
 */
public final class StatsReader {

  private static final Logger log = LoggerFactory.getLogger(StatsReader.class);

  private StatsReader() {
  }

  /** The mean image and how many records of the topic were skipped in the pass that found it. */
  public record Latest(MeanImage mean, Stats stats, long skipped) {
  }

  /** Waits up to {@code timeout} for a stats record; throws with a clear message if none comes. */
  public static MeanImage latestMean(KafkaConnection kafka, Duration timeout) {
    return latest(kafka, timeout).mean();
  }

  /** Waits up to {@code timeout} for a usable stats record; throws with a clear message if none comes. */
  public static Latest latest(KafkaConnection kafka, Duration timeout) {
    String topic = kafka.topics().stats();
    Map<String, Object> props = kafka.clientProperties();
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 16 * 1024 * 1024);
    props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 16 * 1024 * 1024);
    long deadline = System.nanoTime() + timeout.toNanos();
    Set<String> logged = new HashSet<>(); // a record skipped is logged once, not at every pass
    try (KafkaConsumer<String, Stats> consumer = new KafkaConsumer<>(props, new StringDeserializer(), RecordSerdes.stats())) {
      List<TopicPartition> parts = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
          .map(p -> new TopicPartition(topic, p.partition())).toList();
      consumer.assign(parts);
      while (true) {
        Stats newest = null;
        long skipped = 0;
        Map<TopicPartition, Long> ends = consumer.endOffsets(parts);
        consumer.seekToBeginning(parts);
        while (parts.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))) {
          ConsumerRecords<String, Stats> records;
          try {
            records = consumer.poll(Duration.ofMillis(200));
          } catch (RecordDeserializationException e) {
            consumer.seek(e.topicPartition(), e.offset() + 1);
            if (e.offset() < ends.get(e.topicPartition())) { // else published during this pass: the next counts it
              skipped++;
              skip(logged, e.topicPartition(), e.offset(),
                  "cannot be decoded: " + (e.getCause() == null ? e.getMessage() : e.getCause().getMessage()));
            }
            continue;
          }
          for (ConsumerRecord<String, Stats> rec : records) {
            if (rec.offset() >= ends.get(new TopicPartition(rec.topic(), rec.partition()))) {
              continue; // published during this pass: the next pass reads it
            }
            if (rec.value() == null) {
              continue; // a tombstone: nothing to skip
            }
            String why = problem(rec.value());
            if (why != null) {
              skipped++;
              skip(logged, new TopicPartition(rec.topic(), rec.partition()), rec.offset(), why);
            } else if (newest == null || rec.value().getUpdatedAt().compareTo(newest.getUpdatedAt()) >= 0) {
              newest = rec.value();
            }
          }
        }
        if (newest != null) {
          log.info("mean image from {} training images ({}x{}){}", newest.getCount(), newest.getWidth(), newest.getHeight(),
              skipped == 0 ? "" : "; " + skipped + " records of " + topic + " skipped");
          return new Latest(MeanImage.of(newest), newest, skipped);
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("no usable record on topic " + topic + " after " + timeout
              + (skipped == 0 ? "" : " (" + skipped + " skipped, see the log)")
              + ": the trainer needs the mean image (is the augment service running?)");
        }
        log.info("waiting for the mean image on {}", topic);
        sleep(1000);
      }
    }
  }

  /** Why a stats record gives no mean image, or null. */
  static String problem(Stats s) {
    if (s.getCount() <= 0) {
      return "counts " + s.getCount() + " images: no mean image yet";
    }
    if (s.getWidth() <= 0 || s.getHeight() <= 0) {
      return "is for " + s.getWidth() + "x" + s.getHeight() + " images";
    }
    long expected = 3L * s.getWidth() * s.getHeight();
    if (s.getPixelSums().size() != expected) {
      return "has " + s.getPixelSums().size() + " pixel sums, expected " + expected + " for " + s.getWidth() + "x"
          + s.getHeight();
    }
    if (s.getUpdatedAt() == null) {
      return "has no update time";
    }
    return null;
  }

  private static void skip(Set<String> logged, TopicPartition tp, long offset, String why) {
    if (logged.add(tp + "@" + offset)) {
      log.error("skipped stats record at {} offset {}: {}", tp, offset, why);
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
