package org.alexkafka.trainer.report;

/** A division of the learning rate by the schedule, and why. */
public record RateChange(long iteration, int epoch, double from, double to, String reason) {}
