package org.alexkafka.trainer.data;

import java.util.List;
import java.util.Map;

/**
 * Exactly where training stands in an epoch: with the run's seed, enough to recompute the epoch's
 * {@link EpochPlan}s and continue them with the same sample order.
 *
 * <p>The epoch's order is cut into {@code shards} (one per rank of a data-parallel run, or one):
 * every {@code shards}-th block of the block order, each with its own shuffle buffer, and each
 * global batch takes its slice from every shard. A shard's position is the plan's own, so the
 * order does not depend on how many processes train it.
 *
 * @param epoch the epoch (1-based)
 * @param endOffsets per partition, the end offsets taken when the epoch started (exclusive)
 * @param position offsets handed out so far over all shards (trained, or empty offsets skipped)
 * @param blockSize the plan's block size in this epoch
 * @param bufferSize the plan's shuffle buffer (per shard) in this epoch
 * @param shardPositions offsets handed out so far by each shard; absent (checkpoints before
 *     shards) means one shard at {@code position}
 */
public record Cursor(int epoch, Map<Integer, Long> endOffsets, long position, int blockSize, int bufferSize,
                     List<Long> shardPositions) {

  public Cursor {
    endOffsets = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(endOffsets));
    shardPositions = shardPositions == null || shardPositions.isEmpty() ? List.of(position) : List.copyOf(shardPositions);
    long sum = shardPositions.stream().mapToLong(Long::longValue).sum();
    if (sum != position) {
      throw new IllegalArgumentException("the shards' positions " + shardPositions + " do not add up to " + position);
    }
  }

  /** One shard. */
  public Cursor(int epoch, Map<Integer, Long> endOffsets, long position, int blockSize, int bufferSize) {
    this(epoch, endOffsets, position, blockSize, bufferSize, null);
  }

  /** The same epoch with {@code positions} per shard. */
  public static Cursor ofShards(int epoch, Map<Integer, Long> endOffsets, int blockSize, int bufferSize, List<Long> positions) {
    return new Cursor(epoch, endOffsets, positions.stream().mapToLong(Long::longValue).sum(), blockSize, bufferSize, positions);
  }

  public boolean atEpochStart() {
    return position == 0;
  }

  /** How many shards the epoch is cut into. */
  public int shards() {
    return shardPositions.size();
  }
}
