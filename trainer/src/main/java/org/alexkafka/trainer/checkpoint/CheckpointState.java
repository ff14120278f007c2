package org.alexkafka.trainer.checkpoint;

import org.alexkafka.trainer.data.Cursor;
import org.alexkafka.trainer.train.LearningRateSchedule;
import org.alexkafka.trainer.train.TrainerConfig;

/**
 * Everything besides the network that a resumed run needs: where training stands (iteration,
 * epoch, learning rate and its schedule, the topic cursor with the shuffle buffer's contents), the
 * configuration and the seed. The network's parameters and updater state are in model.zip.
 *
 * @param cursor position in samples.train AFTER the last trained batch: offsets below
 *     {@code nextOffsets} have been trained except the ones listed in {@code cursor.buffered()},
 *     which a resumed run re-reads
 */
public record CheckpointState(int formatVersion, long iteration, int epoch, long samplesTrained, double learningRate,
                              LearningRateSchedule.State schedule, Cursor cursor, TrainerConfig config, long seed,
                              String savedAt) {

  public static final int FORMAT_VERSION = 1;
}
