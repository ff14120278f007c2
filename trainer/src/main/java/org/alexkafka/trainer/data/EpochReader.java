package org.alexkafka.trainer.data;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import org.alexkafka.schemas.Sample;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a samples topic in topic order (the evaluator's pass over samples.val): every partition from its start to the end offset taken when
 * the epoch began, partitions taken in a fixed round-robin order (so the order does not depend on
 * fetch timing and a resumed run reads the same sequence). Positions are tracked here, not by
 * consumer-group commits: the checkpoint is the source of truth.
 *
 * <p>Records that cannot be decoded, or that {@code problem} rejects, are logged with topic,
 * partition and offset, counted, and skipped.
 */
public final class EpochReader implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(EpochReader.class);
  private static final Duration POLL = Duration.ofMillis(200);
  private static final int PAUSE_ABOVE = 256;

  private final KafkaConsumer<String, Sample> consumer;
  private final String topic;
  private final Function<Sample, String> problem;
  private final TopicPartitions layout;
  private final List<Integer> partitions;
  private final Map<Integer, ArrayDeque<ConsumerRecord<String, Sample>>> queues = new HashMap<>();
  private Map<Integer, Long> end = new TreeMap<>();
  private Map<Integer, Long> next = new TreeMap<>();
  private int nextPartitionIndex;
  private long rejected;
  private volatile boolean closed;

  public EpochReader(KafkaConsumer<String, Sample> consumer, String topic, Function<Sample, String> problem) {
    this.consumer = consumer;
    this.topic = topic;
    this.problem = problem;
    this.layout = new TopicPartitions(consumer, topic);
    this.partitions = layout.numbers();
    partitions.forEach(p -> queues.put(p, new ArrayDeque<>()));
  }

  private TopicPartition tp(int p) {
    return layout.tp(p);
  }

  /** The current end offsets of every partition: the extent of an epoch that starts now. */
  public Map<Integer, Long> endOffsetsNow() {
    return layout.endOffsetsNow();
  }

  /** Begins reading at {@code from} (per partition) up to {@code until} (exclusive). */
  public void seek(Map<Integer, Long> from, Map<Integer, Long> until, int partitionIndex) {
    this.next = new TreeMap<>(from);
    this.end = new TreeMap<>(until);
    for (int p : partitions) {
      next.putIfAbsent(p, 0L);
      end.putIfAbsent(p, 0L);
      queues.get(p).clear();
      consumer.seek(tp(p), next.get(p));
    }
    consumer.resume(consumer.assignment());
    this.nextPartitionIndex = Math.floorMod(partitionIndex, partitions.size());
  }

  public long rejected() {
    return rejected;
  }

  /** The next sample of the epoch, or null when every partition has reached its end offset. */
  public TrainSample next() {
    for (int tried = 0; tried < partitions.size(); ) {
      int p = partitions.get(nextPartitionIndex);
      if (next.get(p) >= end.get(p)) {
        nextPartitionIndex = (nextPartitionIndex + 1) % partitions.size();
        tried++;
        continue;
      }
      ConsumerRecord<String, Sample> rec = take(p);
      if (rec == null) {
        continue; // the partition turned out to end in offsets that hold no record (e.g. markers)
      }
      nextPartitionIndex = (nextPartitionIndex + 1) % partitions.size();
      tried = 0;
      String why = rec.value() == null ? "empty record" : problem.apply(rec.value());
      if (why != null) {
        rejected++;
        log.warn("rejected sample at {}-{} offset {} (key {}): {}", topic, p, rec.offset(), rec.key(), why);
        continue;
      }
      return new TrainSample(new SampleRef(p, rec.offset()), rec.value());
    }
    return null;
  }

  /** The record at the partition's next offset (or the first after a gap); null if the partition has none before its end. */
  private ConsumerRecord<String, Sample> take(int p) {
    ArrayDeque<ConsumerRecord<String, Sample>> q = queues.get(p);
    while (true) {
      while (!q.isEmpty() && q.peekFirst().offset() < next.get(p)) {
        q.pollFirst();
      }
      if (!q.isEmpty()) {
        ConsumerRecord<String, Sample> rec = q.pollFirst();
        if (rec.offset() >= end.get(p)) {
          next.put(p, end.get(p));
          return null;
        }
        next.put(p, rec.offset() + 1);
        return rec;
      }
      if (consumer.position(tp(p)) >= end.get(p)) {
        next.put(p, end.get(p));
        return null;
      }
      if (closed) {
        throw new IllegalStateException("reader closed");
      }
      pollOnce();
    }
  }

  private void pollOnce() {
    try {
      for (ConsumerRecord<String, Sample> rec : consumer.poll(POLL)) {
        queues.get(rec.partition()).addLast(rec);
      }
    } catch (RecordDeserializationException e) {
      Long until = end.get(e.topicPartition().partition());
      if (until == null || e.offset() < until) { // one published after the pass's end is not this pass's to count
        rejected++;
        log.error("rejected undecodable record at {} offset {}: {}", e.topicPartition(), e.offset(),
            e.getCause() == null ? e.getMessage() : e.getCause().getMessage());
      }
      consumer.seek(e.topicPartition(), e.offset() + 1);
    }
    // keep memory bounded when partitions are read unevenly
    List<TopicPartition> pause = new ArrayList<>();
    List<TopicPartition> resume = new ArrayList<>();
    queues.forEach((p, q) -> (q.size() > PAUSE_ABOVE ? pause : resume).add(tp(p)));
    consumer.pause(pause);
    consumer.resume(resume);
  }

  @Override
  public void close() {
    closed = true;
    consumer.close();
  }
}
