package org.alexkafka.trainer.checkpoint;

import org.alexkafka.trainer.data.Cursor;
import org.alexkafka.trainer.train.LearningRateSchedule;
import org.alexkafka.trainer.train.RunEnd;
import org.alexkafka.trainer.train.TrainerConfig;

/**
 * Everything besides the network that a resumed run needs: where training stands (iteration,
 * epoch, learning rate and its schedule, the topic cursor with the shuffle buffer's contents), the
 * configuration and the seed. The network's parameters and momentum are in parameters.npz and
 * momentum.npz, in the engine-neutral {@link org.alexkafka.trainer.engine.ParameterLayout}.
 *
 * @param cursor position in the epoch's shuffled order AFTER the last trained batch
 * @param ended why the run ended when this checkpoint was its last (null: it has not ended); a
 *     run that {@link RunEnd#finished() finished} is not trained further when restarted
 */
public record CheckpointState(int formatVersion, long iteration, int epoch, long samplesTrained, double learningRate,
                              LearningRateSchedule.State schedule, Cursor cursor, TrainerConfig config, long seed,
                              String savedAt, RunEnd ended) {

  /**
   * 3: parameters and momentum as .npz in the engine-neutral layout (any engine resumes any run);
   * 2: the cursor of the global block shuffle, the schedule's settings, the end of the run.
   */
  public static final int FORMAT_VERSION = 3;
}
