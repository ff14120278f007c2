package org.alexkafka.trainer.data;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.alexkafka.schemas.Sample;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the records an {@link EpochPlan} asks for, one offset at a time, from a consumer assigned
 * to every partition of the topic. Offsets come in runs (a block), so it seeks once per block and
 * then reads on sequentially; only the partition being read is left unpaused, so the consumer does
 * not fetch what the plan will not use yet. Positions are the plan's, not consumer-group commits.
 *
 * <p>An offset that holds no sample (a transaction marker, an aborted or compacted record), a
 * record that cannot be decoded (garbage, truncated, a schema fingerprint this trainer does not
 * know), or one that {@code problem} rejects (or whose lighting is not finite) reads as null; the
 * last two are logged with topic, partition and offset and counted in {@link #rejected()}, once:
 * an undecodable record this reader only passes on its way to another offset (reading on rather
 * than seeking) is skipped without counting, since it is counted when its own offset is read.
 * The readers of an epoch read each offset once between them, so the sum of their counts is the
 * epoch's exact number of skipped records. A blocked read ends when its thread is interrupted
 * (Kafka's {@code InterruptException}).
 */
public final class BlockReader {

  private static final Logger log = LoggerFactory.getLogger(BlockReader.class);
  private static final Duration POLL = Duration.ofMillis(200);
  /** Read on through at most this many unwanted offsets rather than seek. */
  private static final long READ_THROUGH = 4096;

  private final KafkaConsumer<String, Sample> consumer;
  private final String topic;
  private final Function<Sample, String> problem;
  private final TopicPartitions layout;
  private final ArrayDeque<ConsumerRecord<String, Sample>> staged = new ArrayDeque<>();
  private final AtomicLong rejected = new AtomicLong();
  private int partition = -1;
  private long streamPosition;

  /**
   * A fetch's response is one buffer: above half a G1 region (2 MB in a heap of 8 GB) it is a
   * humongous object, allocated outside the young generation on memory that must first be mapped,
   * which cost more system time than the extra round trips of smaller fetches.
   */
  static final int MAX_FETCH_BYTES = 1 << 20;

  /**
   * Consumer settings a block reader needs: read_committed (never an aborted augment
   * transaction), no group commits, one fetch about one block (a seek then discards little), and
   * a short fetch wait: a fetch left in flight at the end of a partition would otherwise hold the
   * next block's fetch for fetch.max.wait.ms (500 ms by default) after every seek. And one record
   * per poll: the consumer fetches a partition again as soon as a poll drains what it holds of it,
   * so handing over whole fetches sent a fetch past the end of nearly every block, read for nothing
   * and waited for before the next block's (in bench-feed's first passes 1.32x the bytes used,
   * 1.17x with one record per poll; the share depends on how blocks end against fetches).
   */
  public static Map<String, Object> consumerSettings(long blockBytes) {
    return Map.of(
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
        ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, (int) Math.max(64 * 1024, Math.min(blockBytes, MAX_FETCH_BYTES)),
        ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 10,
        ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1);
  }

  public BlockReader(KafkaConsumer<String, Sample> consumer, String topic, Function<Sample, String> problem) {
    this.consumer = consumer;
    this.topic = topic;
    this.problem = problem;
    this.layout = new TopicPartitions(consumer, topic);
  }

  private TopicPartition tp(int p) {
    return layout.tp(p);
  }

  public String topic() {
    return topic;
  }

  /** The current end offsets of every partition: the extent of an epoch that starts now. */
  public Map<Integer, Long> endOffsetsNow() {
    return layout.endOffsetsNow();
  }

  public long rejected() {
    return rejected.get();
  }

  /** The next read seeks, whatever it reads. */
  public void forgetPosition() {
    partition = -1;
    staged.clear();
  }

  /** The sample at {@code ref}, or null when that offset holds none that can be trained on. */
  public TrainSample read(SampleRef ref) {
    if (ref.partition() != partition || ref.offset() < streamPosition || ref.offset() > streamPosition + READ_THROUGH) {
      moveTo(ref);
    }
    while (true) {
      while (!staged.isEmpty() && staged.peekFirst().offset() < ref.offset()) {
        staged.pollFirst();
      }
      if (!staged.isEmpty()) {
        streamPosition = ref.offset() + 1;
        return staged.peekFirst().offset() == ref.offset() ? accept(staged.pollFirst()) : null;
      }
      if (consumer.position(tp(partition)) > ref.offset()) {
        streamPosition = ref.offset() + 1;
        return null; // the consumer passed it: no data record there, or an undecodable one (counted)
      }
      pollOnce(ref.offset());
    }
  }

  private void moveTo(SampleRef ref) {
    if (ref.partition() != partition) {
      consumer.pause(consumer.assignment());
      consumer.resume(List.of(tp(ref.partition())));
      partition = ref.partition();
    }
    staged.clear();
    consumer.seek(tp(partition), ref.offset());
    streamPosition = ref.offset();
  }

  private TrainSample accept(ConsumerRecord<String, Sample> rec) {
    String why = rec.value() == null ? "empty record" : problem.apply(rec.value());
    if (why == null && !finiteLighting(rec.value())) {
      why = "lighting " + rec.value().getLighting() + " is not finite";
    }
    if (why != null) {
      rejected.incrementAndGet();
      log.warn("rejected sample at {}-{} offset {} (key {}): {}", topic, rec.partition(), rec.offset(), rec.key(), why);
      return null;
    }
    return new TrainSample(new SampleRef(rec.partition(), rec.offset()), rec.value());
  }

  private static boolean finiteLighting(Sample s) {
    for (Float v : s.getLighting()) {
      if (v == null || !Float.isFinite(v)) {
        return false;
      }
    }
    return true;
  }

  /**
   * One poll of the partition being read, on the way to offset {@code wanted}. A record that cannot
   * be decoded makes the poll throw (again at every poll, until seeked past): it is passed over,
   * and counted only when it is the one wanted.
   */
  private void pollOnce(long wanted) {
    try {
      for (ConsumerRecord<String, Sample> rec : consumer.poll(POLL)) {
        if (rec.partition() == partition && rec.offset() >= streamPosition) {
          staged.addLast(rec);
        }
      }
    } catch (RecordDeserializationException e) {
      String why = e.getCause() == null ? e.getMessage() : e.getCause().getMessage();
      if (e.topicPartition().partition() != partition || e.offset() < wanted) {
        consumer.seek(e.topicPartition(), e.offset() + 1);
        log.debug("passed over undecodable record at {}-{} offset {} on the way to offset {} (counted when it is read): {}",
            topic, e.topicPartition().partition(), e.offset(), wanted, why);
      } else if (e.offset() == wanted) {
        consumer.seek(e.topicPartition(), e.offset() + 1);
        rejected.incrementAndGet();
        log.error("rejected undecodable record at {}-{} offset {}: {}", topic, partition, e.offset(), why);
      } else {
        // beyond the offset wanted, which then holds no data record (a marker, an aborted record):
        // stand at the poison record (the consumer may still stand before those offsets), so the
        // read of its own offset meets it again and counts it
        consumer.seek(e.topicPartition(), e.offset());
      }
    }
  }
}
