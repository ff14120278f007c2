package org.alexkafka.augment.topology;

import java.util.Optional;
import java.util.Set;
import org.alexkafka.schemas.Sample;
import org.alexkafka.schemas.topics.SamplePartitioning;
import org.apache.kafka.streams.processor.StreamPartitioner;

/**
 * Puts the training variants of one image in different partitions of samples.train (see
 * {@link SamplePartitioning}); every other output keeps Kafka's default partitioning.
 */
final class SpreadVariantsPartitioner implements StreamPartitioner<String, Routed> {

  private final String samplesTrain;

  SpreadVariantsPartitioner(String samplesTrain) {
    this.samplesTrain = samplesTrain;
  }

  @Override
  public Optional<Set<Integer>> partitions(String topic, String key, Routed value, int numPartitions) {
    if (topic.equals(samplesTrain) && value.value() instanceof Sample s) {
      return Optional.of(Set.of(SamplePartitioning.partitionOf(s.getImageId(), s.getVariant(), numPartitions)));
    }
    return Optional.empty();
  }
}
