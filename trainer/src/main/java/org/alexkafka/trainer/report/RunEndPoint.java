package org.alexkafka.trainer.report;

/** How a run ended: a {@code RunEnd} name and its description. */
public record RunEndPoint(long iteration, int epoch, String reason, String description) {}
