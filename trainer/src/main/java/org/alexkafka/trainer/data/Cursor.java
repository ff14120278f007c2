package org.alexkafka.trainer.data;

import java.util.Map;

/**
 * Exactly where training stands in an epoch: with the run's seed, enough to recompute the epoch's
 * {@link EpochPlan} and continue it with the same sample order.
 *
 * @param epoch the epoch (1-based)
 * @param endOffsets per partition, the end offsets taken when the epoch started (exclusive)
 * @param position offsets of the plan handed out so far (trained, or empty offsets skipped)
 * @param blockSize the plan's block size in this epoch
 * @param bufferSize the plan's shuffle buffer in this epoch
 */
public record Cursor(int epoch, Map<Integer, Long> endOffsets, long position, int blockSize, int bufferSize) {

  public boolean atEpochStart() {
    return position == 0;
  }
}
