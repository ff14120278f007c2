package org.alexkafka.trainer.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A shuffle buffer in front of an {@link EpochReader}: it holds up to {@code capacity} samples and
 * hands out a uniformly chosen one, refilling from the topic, so a topic written class by class
 * still gives mixed batches. The buffer drains at the end of an epoch: epochs do not mix.
 * {@link #cursor()} captures the exact state (including which samples sit in the buffer) so that
 * a run resumed from a checkpoint re-reads them and continues with the same order.
 */
public final class ShuffledEpoch {

  private final EpochReader reader;
  private final int capacity;
  private final List<TrainSample> buffer;
  private SplitMix64 rng;
  private int epoch;
  private boolean readerDone;

  public ShuffledEpoch(EpochReader reader, int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("shuffle buffer needs room for at least one sample");
    }
    this.reader = reader;
    this.capacity = capacity;
    this.buffer = new ArrayList<>(Math.min(capacity, 1 << 16));
  }

  /** Starts epoch {@code epoch} at offset 0, up to the end offsets now. Returns how many offsets it spans. */
  public long startEpoch(int epoch, long seed) {
    Map<Integer, Long> ends = reader.endOffsetsNow();
    reader.seek(Map.of(), ends, 0);
    this.epoch = epoch;
    this.rng = new SplitMix64(seed * 0x9E3779B97F4A7C15L + epoch);
    this.buffer.clear();
    this.readerDone = false;
    return ends.values().stream().mapToLong(Long::longValue).sum();
  }

  /** Continues exactly where {@code cursor} was taken. */
  public void restore(Cursor cursor) {
    reader.seek(cursor.nextOffsets(), cursor.endOffsets(), cursor.nextPartitionIndex());
    this.epoch = cursor.epoch();
    this.rng = new SplitMix64(cursor.rngState());
    this.buffer.clear();
    this.buffer.addAll(reader.fetch(cursor.buffered()));
    this.readerDone = false;
  }

  public int epoch() {
    return epoch;
  }

  public int buffered() {
    return buffer.size();
  }

  /** The next sample of this epoch, or null when the epoch is over. */
  public TrainSample next() {
    while (!readerDone && buffer.size() < capacity) {
      TrainSample s = reader.next();
      if (s == null) {
        readerDone = true;
      } else {
        buffer.add(s);
      }
    }
    if (buffer.isEmpty()) {
      return null;
    }
    int i = rng.nextInt(buffer.size());
    TrainSample out = buffer.get(i);
    buffer.set(i, buffer.get(buffer.size() - 1));
    buffer.remove(buffer.size() - 1);
    return out;
  }

  /** Up to {@code n} samples; fewer only at the end of the epoch. */
  public List<TrainSample> take(int n) {
    List<TrainSample> out = new ArrayList<>(n);
    while (out.size() < n) {
      TrainSample s = next();
      if (s == null) {
        break;
      }
      out.add(s);
    }
    return out;
  }

  public Cursor cursor() {
    return new Cursor(epoch, reader.endOffsets(), reader.nextOffsets(), reader.nextPartitionIndex(),
        buffer.stream().map(TrainSample::ref).toList(), rng.state());
  }
}
