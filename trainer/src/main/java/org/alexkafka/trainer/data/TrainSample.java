package org.alexkafka.trainer.data;

import org.alexkafka.schemas.Sample;

/** A consumed sample with its place in the topic. */
public record TrainSample(SampleRef ref, Sample sample) {
}
