package org.alexkafka.trainer.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The order of one epoch, computed from topic offsets alone: the shard-plus-buffer shuffle of
 * WebDataset and tf.data, on Kafka partitions.
 *
 * <ul>
 *   <li>Every partition {@code [0, end)} is cut into blocks of {@code blockSize} consecutive
 *       offsets; the blocks of all partitions are visited in a random order drawn from (seed,
 *       epoch). Reads stay sequential within a block, and a seek costs one fetch.
 *   <li>The offsets read pass through a shuffle buffer of {@code bufferSize} slots, which hands out
 *       a uniformly chosen one.
 * </ul>
 *
 * With augment's placement of the K variants of an image in K different partitions
 * ({@code SamplePartitioning}), they lie in different blocks and so spread over the whole epoch.
 *
 * <p>The plan is pure: it never looks at records. So a resumed run recomputes it from the cursor
 * (epoch, end offsets, position) and gets the same order to the sample; offsets that hold no
 * sample (transaction markers, records rejected by the trainer) are planned like any other and
 * skipped by the reader. With {@code world > 1} the plan is the share of rank {@code rank}: every
 * {@code world}-th block of the common block order, so the ranks' shares are disjoint and cover
 * the epoch.
 */
public final class EpochPlan {

  /** Offsets {@code [start, end)} of one partition. */
  public record Block(int partition, long start, long end) {
  }

  private final List<Block> blocks;
  private final int bufferSize;
  private final SplitMix64 draw;
  private final List<SampleRef> buffer;
  private int blockIndex;
  private long nextOffset;
  private long position;
  private final long size;

  private EpochPlan(List<Block> blocks, int bufferSize, SplitMix64 draw) {
    this.blocks = blocks;
    this.bufferSize = bufferSize;
    this.draw = draw;
    this.buffer = new ArrayList<>(Math.min(bufferSize, 1 << 16));
    this.nextOffset = blocks.isEmpty() ? 0 : blocks.get(0).start();
    this.size = blocks.stream().mapToLong(b -> b.end() - b.start()).sum();
  }

  /** The whole epoch (one rank). */
  public static EpochPlan of(long seed, int epoch, Map<Integer, Long> endOffsets, int blockSize, int bufferSize) {
    return of(seed, epoch, endOffsets, blockSize, bufferSize, 0, 1);
  }

  /** The share of {@code rank} out of {@code world} ranks. */
  public static EpochPlan of(long seed, int epoch, Map<Integer, Long> endOffsets, int blockSize, int bufferSize,
                             int rank, int world) {
    if (blockSize < 1 || bufferSize < 1) {
      throw new IllegalArgumentException("block size and shuffle buffer need at least 1, got " + blockSize + " and " + bufferSize);
    }
    if (world < 1 || rank < 0 || rank >= world) {
      throw new IllegalArgumentException("need 0 <= rank < world, got rank " + rank + " of " + world);
    }
    List<Block> all = new ArrayList<>();
    new TreeMap<>(endOffsets).forEach((partition, end) -> {
      for (long start = 0; start < end; start += blockSize) {
        all.add(new Block(partition, start, Math.min(end, start + blockSize)));
      }
    });
    SplitMix64 order = new SplitMix64(mix(seed, epoch, 0x5bd1e995L));
    for (int i = all.size() - 1; i > 0; i--) { // Fisher-Yates
      int j = order.nextInt(i + 1);
      Block t = all.get(i);
      all.set(i, all.get(j));
      all.set(j, t);
    }
    List<Block> mine = new ArrayList<>();
    for (int i = rank; i < all.size(); i += world) {
      mine.add(all.get(i));
    }
    return new EpochPlan(mine, bufferSize, new SplitMix64(mix(seed, epoch, 0x2545F4914F6CDD1DL + rank)));
  }

  private static long mix(long seed, int epoch, long salt) {
    SplitMix64 m = new SplitMix64(seed ^ salt);
    return m.nextLong() * 31 + epoch * 0x9E3779B97F4A7C15L + m.nextLong();
  }

  /** Offsets planned in all (samples plus any empty offsets). */
  public long size() {
    return size;
  }

  /** Offsets handed out so far. */
  public long position() {
    return position;
  }

  public List<Block> blocks() {
    return List.copyOf(blocks);
  }

  /** The block the plan reads next (blocks().size() when all are read). */
  public int readingBlock() {
    return blockIndex;
  }

  /** The offset the plan reads next within {@link #readingBlock()}. */
  public long readingOffset() {
    return nextOffset;
  }

  /** The offsets in the buffer now: read, not yet handed out. */
  public List<SampleRef> buffered() {
    return List.copyOf(buffer);
  }

  /**
   * The next offset of the epoch, or null at its end. Every offset that enters the buffer is first
   * given to {@code onRead}, in reading order (block by block, ascending within a block).
   */
  public SampleRef next(Consumer<SampleRef> onRead) {
    while (buffer.size() < bufferSize && blockIndex < blocks.size()) {
      Block b = blocks.get(blockIndex);
      SampleRef ref = new SampleRef(b.partition(), nextOffset++);
      if (nextOffset >= b.end()) {
        blockIndex++;
        nextOffset = blockIndex < blocks.size() ? blocks.get(blockIndex).start() : 0;
      }
      onRead.accept(ref);
      buffer.add(ref);
    }
    if (buffer.isEmpty()) {
      return null;
    }
    int i = draw.nextInt(buffer.size());
    SampleRef out = buffer.get(i);
    buffer.set(i, buffer.get(buffer.size() - 1));
    buffer.remove(buffer.size() - 1);
    position++;
    return out;
  }

  /** Hands out {@code count} offsets without reading anything: where a resumed run continues. */
  public void skip(long count) {
    for (long i = 0; i < count && next(ref -> { }) != null; i++) {
      // next() does the work
    }
  }
}
