package org.alexkafka.trainer.data;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import org.apache.kafka.common.errors.InterruptException;

/**
 * The samples of one epoch in a fresh global order: an {@link EpochPlan} drawn from (seed, epoch)
 * over the end offsets taken when the epoch starts, read by a {@link BlockReader} on a loader
 * thread that keeps {@code prefetch} samples ready while the trainer works on the current batch.
 * Epochs do not mix; samples published during an epoch join the next one.
 *
 * <p>{@link #cursor()} is exact: the plan is pure, so a resumed run recomputes it, skips what was
 * handed out, re-reads what sat in the shuffle buffer and continues with the same order.
 *
 * <p>Memory: the shuffle buffer and the prefetch queue hold decoded samples, about
 * {@code crop² × 3} bytes each: 147 KB at 224 crops, so the default 1,024-slot buffer plus a
 * 256-sample queue hold about 190 MB (15 MB at 64 crops); a block fetch adds at most
 * max.partition.fetch.bytes.
 */
public final class ShuffledEpoch implements AutoCloseable {

  /**
   * Offsets a block. Small enough that the default buffer mixes 64 blocks (a class-mix within
   * 1.4× a uniform permutation's on a topic written class by class), large enough that a block is
   * one fetch of 2.4 MB at 224 crops.
   */
  public static final int DEFAULT_BLOCK = 16;

  /**
   * Readers (Kafka consumers) a trainer gives each epoch: a block costs a seek and a fetch round
   * trip, and with 3 in flight the reads no longer wait on them one after the other.
   */
  public static final int READERS = 3;

  private record Item(long position, TrainSample sample, RuntimeException failure) {
  }

  private static final Item END = new Item(-1, null, null);

  /** Readers (each with its own consumer) fetching blocks ahead, in parallel; the first also serves re-reads. */
  private final List<BlockReader> readers;
  private final BlockReader reader;
  private final int blockSize;
  private final int bufferSize;
  private final int prefetch;

  private int epoch;
  private long seed;
  private Map<Integer, Long> ends = new TreeMap<>();
  private int epochBlockSize;
  private int epochBufferSize;
  private int shard;
  private int shards = 1;
  private long position;
  private boolean over;
  private Thread loader;
  private BlockingQueue<Item> queue;

  public ShuffledEpoch(BlockReader reader, int blockSize, int bufferSize, int prefetch) {
    this(List.of(reader), blockSize, bufferSize, prefetch);
  }

  /** Reads with every reader in {@code readers}, each fetching its share of the blocks ahead of the loader. */
  public ShuffledEpoch(List<BlockReader> readers, int blockSize, int bufferSize, int prefetch) {
    if (blockSize < 1 || bufferSize < 1 || prefetch < 1) {
      throw new IllegalArgumentException("block, shuffle buffer and prefetch need at least 1 sample");
    }
    if (readers.isEmpty()) {
      throw new IllegalArgumentException("need at least one reader");
    }
    this.readers = List.copyOf(readers);
    this.reader = readers.get(0);
    this.blockSize = blockSize;
    this.bufferSize = bufferSize;
    this.prefetch = prefetch;
  }

  /** Starts epoch {@code epoch} at its beginning, up to the end offsets now. Returns how many offsets it spans. */
  public long startEpoch(int epoch, long seed) {
    return startEpoch(epoch, seed, reader.endOffsetsNow(), 0, 1);
  }

  /**
   * Starts shard {@code shard} of {@code shards} of epoch {@code epoch}, up to {@code ends} (the
   * same for every shard). Returns how many offsets the whole epoch spans.
   */
  public long startEpoch(int epoch, long seed, Map<Integer, Long> ends, int shard, int shards) {
    stopLoader();
    this.ends = new TreeMap<>(ends);
    begin(epoch, seed, blockSize, bufferSize, shard, shards, 0);
    return this.ends.values().stream().mapToLong(Long::longValue).sum();
  }

  /** The topic's end offsets now (an epoch's end, when it starts). */
  public Map<Integer, Long> endOffsetsNow() {
    return reader.endOffsetsNow();
  }

  /** Continues exactly where {@code cursor} was taken ({@code seed}: the run's); a cursor of one shard. */
  public void restore(Cursor cursor, long seed) {
    restore(cursor, seed, 0);
  }

  /** Continues shard {@code shard} of {@code cursor}'s epoch exactly where the cursor was taken. */
  public void restore(Cursor cursor, long seed, int shard) {
    stopLoader();
    this.ends = new TreeMap<>(cursor.endOffsets());
    begin(cursor.epoch(), seed, cursor.blockSize(), cursor.bufferSize(), shard, cursor.shards(),
        cursor.shardPositions().get(shard));
  }

  private void begin(int epoch, long seed, int block, int buffer, int shard, int shards, long position) {
    if (shards < 1 || shard < 0 || shard >= shards) {
      throw new IllegalArgumentException("need 0 <= shard < shards, got shard " + shard + " of " + shards);
    }
    this.shard = shard;
    this.shards = shards;
    this.epoch = epoch;
    this.seed = seed;
    this.epochBlockSize = block;
    this.epochBufferSize = buffer;
    this.position = position;
    this.over = false;
  }

  public int epoch() {
    return epoch;
  }

  /** Samples the trainer's check rejected, or that could not be decoded, so far. */
  public long rejected() {
    return readers.stream().mapToLong(BlockReader::rejected).sum();
  }

  /** The next sample of this epoch, or null when the epoch is over. */
  public TrainSample next() {
    if (over) {
      return null;
    }
    if (loader == null) {
      startLoader();
    }
    Item item;
    try {
      item = queue.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for samples", e);
    }
    if (item.failure() != null) {
      over = true;
      throw new IllegalStateException("reading " + reader.topic() + " failed: " + item.failure().getMessage(), item.failure());
    }
    if (item == END) {
      over = true;
      stopLoader();
      return null;
    }
    position = item.position();
    return item.sample();
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

  /** Which shard of the epoch this reads. */
  public int shard() {
    return shard;
  }

  /** Where this epoch (this shard of it) stands after the last sample handed out. */
  public Cursor cursor() {
    return new Cursor(epoch, ends, position, epochBlockSize, epochBufferSize);
  }

  @Override
  public void close() {
    stopLoader();
  }

  private void startLoader() {
    EpochPlan plan = EpochPlan.of(seed, epoch, ends, epochBlockSize, epochBufferSize, shard, shards);
    long from = position;
    queue = new ArrayBlockingQueue<>(prefetch);
    BlockingQueue<Item> out = queue;
    loader = new Thread(() -> load(plan, from, out), "epoch-" + epoch + "-loader");
    loader.setDaemon(true);
    loader.start();
  }

  private void load(EpochPlan plan, long from, BlockingQueue<Item> out) {
    try {
      Map<SampleRef, TrainSample> staged = new HashMap<>();
      plan.skip(from);
      plan.buffered().stream() // a resumed epoch: re-read what sat in the buffer, in topic order
          .sorted(Comparator.comparingInt(SampleRef::partition).thenComparingLong(SampleRef::offset))
          .forEach(ref -> stage(staged, ref));
      reader.forgetPosition();
      try (BlockPrefetch blocks = new BlockPrefetch(readers, plan.blocks(), plan.readingBlock(), plan.readingOffset(),
          2 * readers.size())) {
        load(plan, staged, blocks, out);
      }
      out.put(END);
    } catch (InterruptedException | InterruptException e) {
      // stopped: a new epoch starts or the trainer closes
    } catch (RuntimeException e) {
      try {
        out.put(new Item(-1, null, e));
      } catch (InterruptedException stopped) {
        // nobody waits for it any more
      }
    }
  }

  private void load(EpochPlan plan, Map<SampleRef, TrainSample> staged, BlockPrefetch blocks, BlockingQueue<Item> out)
      throws InterruptedException {
    SampleRef ref;
    while ((ref = plan.next(r -> stage(staged, blocks, r))) != null) {
      TrainSample s = staged.remove(ref); // absent: the offset holds no usable sample
      if (s != null) {
        out.put(new Item(plan.position(), s, null));
      }
    }
  }

  private void stage(Map<SampleRef, TrainSample> staged, BlockPrefetch blocks, SampleRef ref) {
    TrainSample s;
    try {
      s = blocks.take(ref);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptException("loader stopped");
    }
    if (s != null) {
      staged.put(ref, s);
    }
  }

  private void stage(Map<SampleRef, TrainSample> staged, SampleRef ref) {
    if (Thread.currentThread().isInterrupted()) {
      throw new InterruptException("loader stopped");
    }
    TrainSample s = reader.read(ref);
    if (s != null) {
      staged.put(ref, s);
    }
  }

  private void stopLoader() {
    if (loader == null) {
      return;
    }
    loader.interrupt();
    try {
      loader.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    loader = null;
    queue = null;
    readers.forEach(BlockReader::forgetPosition); // the stopped loader may have left a read half done
  }
}
