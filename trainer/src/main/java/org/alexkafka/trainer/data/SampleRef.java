package org.alexkafka.trainer.data;

/** Where a sample lives in {@code samples.train}. */
public record SampleRef(int partition, long offset) {
}
