package org.alexkafka.augment.topology;

import java.time.Duration;
import java.time.Instant;
import org.alexkafka.augment.stats.StatsAccumulator;
import org.alexkafka.schemas.Stats;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Runs on one partition: keeps the latest cumulative partial of every augment task and publishes
 * their sum, with its PCA, as the one statistics record (key {@value StoreNames#STATS_KEY}).
 * Partials are cumulative, so a re-sent partial replaces, never adds. Publishes at most once per
 * interval (wall clock), so the ~1 MB record is written, and read by every instance, rarely.
 */
final class StatsMergeProcessor implements Processor<String, Stats, String, Stats> {

  private final Duration interval;
  private ProcessorContext<String, Stats> context;
  private KeyValueStore<String, byte[]> partials;
  private boolean dirty;

  StatsMergeProcessor(Duration interval) {
    this.interval = interval;
  }

  @Override
  public void init(ProcessorContext<String, Stats> context) {
    this.context = context;
    this.partials = context.getStateStore(StoreNames.STATS_PARTIALS);
    context.schedule(interval, PunctuationType.WALL_CLOCK_TIME, this::publish);
  }

  /**
   * Throws on a partial that cannot be added to the others (sums of the wrong length, another image
   * size, no key): Streams' processing exception handler dead-letters it and it is not kept, so
   * one bad record never stops the statistics.
   */
  @Override
  public void process(Record<String, Stats> record) {
    if (record.key() == null || record.value() == null) {
      throw new IllegalArgumentException("a statistics partial needs a key and a value");
    }
    StatsAccumulator partial = StatsAccumulator.fromStats(record.value());
    if (partial.count() < 0) {
      throw new IllegalArgumentException("a statistics partial counts " + partial.count() + " images");
    }
    try (KeyValueIterator<String, byte[]> it = partials.all()) {
      while (it.hasNext()) {
        KeyValue<String, byte[]> kv = it.next();
        if (kv.key.equals(record.key())) {
          continue;
        }
        StatsAccumulator other = StatsAccumulator.fromBytes(kv.value);
        if (other.width() != partial.width() || other.height() != partial.height()) {
          throw new IllegalArgumentException("partial " + record.key() + " sums " + partial.width() + "x" + partial.height()
              + " images but partial " + kv.key + " sums " + other.width() + "x" + other.height() + " ones");
        }
        break;
      }
    }
    partials.put(record.key(), partial.toBytes());
    dirty = true;
  }

  private void publish(long now) {
    if (!dirty) {
      return;
    }
    dirty = false;
    StatsAccumulator total = null;
    try (KeyValueIterator<String, byte[]> it = partials.all()) {
      while (it.hasNext()) {
        KeyValue<String, byte[]> kv = it.next();
        StatsAccumulator part = StatsAccumulator.fromBytes(kv.value);
        if (total == null) {
          total = part;
        } else {
          total.addAll(part);
        }
      }
    }
    if (total != null) {
      context.forward(new Record<>(StoreNames.STATS_KEY, total.toStats(Instant.ofEpochMilli(now)), now));
    }
  }
}
