package org.alexkafka.trainer.report;

/**
 * Where an epoch began, and how many offsets of samples.train its pass spans (its samples and
 * the transaction markers between them; -1: not recorded).
 */
public record EpochStart(int epoch, long iteration, long trainOffsets) {}
