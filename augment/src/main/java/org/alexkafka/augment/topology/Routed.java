package org.alexkafka.augment.topology;

import org.apache.avro.specific.SpecificRecord;

/**
 * A record the augment processor emits and the topic it goes to. A {@code null} topic marks a
 * statistics partial, which goes to the merge step instead of a topic of the data contracts.
 */
public record Routed(String topic, SpecificRecord value) {

  public static Routed partial(SpecificRecord stats) {
    return new Routed(null, stats);
  }

  public boolean isPartial() {
    return topic == null;
  }
}
