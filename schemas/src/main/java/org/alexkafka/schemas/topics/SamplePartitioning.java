package org.alexkafka.schemas.topics;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.utils.Utils;

/**
 * Where the training variants of an image go in {@code samples.train}: variant v of an image lands
 * in partition (hash(image id) + v) mod P, so the K variants of one image sit in K different
 * partitions (when P ≥ K) instead of next to each other. The trainer's block shuffle visits the
 * blocks of all partitions in a random order, so variants in different partitions end up spread
 * over the whole epoch.
 */
public final class SamplePartitioning {

  private SamplePartitioning() {}

  public static int partitionOf(String imageId, int variant, int partitions) {
    if (partitions < 1) {
      throw new IllegalArgumentException("need at least one partition, got " + partitions);
    }
    int base = Utils.toPositive(Utils.murmur2(imageId.getBytes(StandardCharsets.UTF_8)));
    return (int) Math.floorMod((long) base + variant, (long) partitions);
  }
}
