package org.alexkafka.trainer.data;

import java.util.List;
import java.util.Map;

/**
 * Exactly where training stands in an epoch: enough to continue it with the same sample order.
 *
 * @param epoch the epoch (1-based)
 * @param endOffsets per partition, the end offsets taken when the epoch started (exclusive)
 * @param nextOffsets per partition, the offset of the next record to enter the shuffle buffer
 * @param nextPartitionIndex round-robin position over the sorted partitions
 * @param buffered the samples in the shuffle buffer (read but not trained), in slot order; a
 *     resumed run re-reads them from the topic
 * @param rngState the shuffle generator's state
 */
public record Cursor(int epoch, Map<Integer, Long> endOffsets, Map<Integer, Long> nextOffsets, int nextPartitionIndex,
                     List<SampleRef> buffered, long rngState) {
}
