package org.alexkafka.trainer.engine.dl4j.speed;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.INDArrayIndex;

/** Splitting a batch along its first axis, for layer helpers that work a few images at a time. */
final class BatchChunks {

    private BatchChunks() {}

    /** Images per chunk: as many as {@code maxElements} allows at {@code elementsPerImage}, at least one, at most the batch. */
    static long imagesPerChunk(long batch, long elementsPerImage, long maxElements) {
        return Math.max(1, Math.min(batch, maxElements / Math.max(1, elementsPerImage)));
    }

    /** Images [from, to) of any array with the batch first: a contiguous view of a c-order array (the array itself when whole). */
    static INDArray images(INDArray x, long from, long to) {
        if (from == 0 && to == x.size(0)) {
            return x;
        }
        INDArrayIndex[] index = new INDArrayIndex[x.rank()];
        Arrays.fill(index, all());
        index[0] = interval(from, to);
        return x.get(index);
    }
}
