package org.alexkafka.trainer.report;

/** One logged interval of training: what the report plots against iterations. */
public record TrainPoint(long iteration, int epoch, double loss, double top1Error, double top5Error,
                         double learningRate, double imagesPerSecond, double dataWaitFraction) {}
