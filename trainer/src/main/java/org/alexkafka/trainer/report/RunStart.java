package org.alexkafka.trainer.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;

/**
 * A (re)start of the trainer as its {@code start} row records it: what it ran with.
 *
 * @param config every trainer option, as saved (an empty object when unknown)
 * @param trainImages images the mean image was computed from (-1: unknown)
 */
public record RunStart(Instant time, int epoch, long iteration, String engine, String device, long parameters, long seed,
                       String gitCommit, long trainImages, String java, JsonNode config) {}
