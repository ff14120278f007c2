package org.alexkafka.trainer.report;

/**
 * One logged interval of training: what the report plots against iterations and elapsed time.
 *
 * @param elapsedSeconds wall time since the run's first metrics row (NaN when the row has no time)
 * @param top1Error on the interval's last training batch
 */
public record TrainPoint(long iteration, int epoch, double elapsedSeconds, double loss, double top1Error, double top5Error,
                         double learningRate, double imagesPerSecond, double dataWaitFraction) {}
