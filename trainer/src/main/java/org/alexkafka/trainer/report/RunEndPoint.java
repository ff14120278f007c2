package org.alexkafka.trainer.report;

import java.time.Instant;

/** How a run ended: a {@code RunEnd} name and its description; {@code time} null when unknown. */
public record RunEndPoint(long iteration, int epoch, String reason, String description, Instant time) {}
