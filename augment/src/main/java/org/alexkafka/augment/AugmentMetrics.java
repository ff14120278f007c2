package org.alexkafka.augment;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The service's counters, each named by the thing it counts (Prometheus adds {@code _total}):
 * {@code augment.samples} (tag topic; {@code augment_samples_total}), {@code augment.records.rejected}
 * (tag reason; records sent to the dead-letter topic), {@code augment.stats.images} (training
 * images counted into the statistics) and {@code augment.images.held.for.label} (images that
 * arrived before their label and were held back).
 */
public final class AugmentMetrics {

  private final MeterRegistry registry;
  private final Map<String, Counter> samples = new ConcurrentHashMap<>();
  private final Map<String, Counter> rejected = new ConcurrentHashMap<>();
  private final Counter statsImages;
  private final Counter labelWaits;

  public AugmentMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.statsImages = Counter.builder("augment.stats.images")
        .description("Distinct training images counted into the statistics").register(registry);
    this.labelWaits = Counter.builder("augment.images.held.for.label")
        .description("Images that arrived before their label and were held back").register(registry);
  }

  public void sampleEmitted(String topic) {
    samples.computeIfAbsent(topic, t -> Counter.builder("augment.samples").tag("topic", t)
        .description("Samples emitted").register(registry)).increment();
  }

  public void rejected(String reason) {
    rejected.computeIfAbsent(reason, r -> Counter.builder("augment.records.rejected").tag("reason", r)
        .description("Records sent to the dead-letter topic").register(registry)).increment();
  }

  public void imageCounted() {
    statsImages.increment();
  }

  public void labelWaited() {
    labelWaits.increment();
  }
}
