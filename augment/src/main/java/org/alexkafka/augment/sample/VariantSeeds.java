package org.alexkafka.augment.sample;

import java.nio.charset.StandardCharsets;
import java.util.Random;

/**
 * The random source of one variant, derived from (run seed, image id, variant number) alone, so
 * the same image and variant give the same crop, flip and α on every run, machine and replay.
 * {@link java.util.Random}'s algorithm is fixed by its specification, so its draws are stable
 * across JVMs.
 */
public final class VariantSeeds {

  private VariantSeeds() {}

  public static long seed(long runSeed, String imageId, int variant) {
    long h = mix(runSeed ^ 0x9E3779B97F4A7C15L);
    h = mix(h ^ fnv1a64(imageId));
    return mix(h ^ variant);
  }

  public static Random random(long runSeed, String imageId, int variant) {
    return new Random(seed(runSeed, imageId, variant));
  }

  /** FNV-1a, 64 bit, over the UTF-8 bytes: a stable string hash (unlike nothing else in the JDK). */
  static long fnv1a64(String s) {
    long h = 0xcbf29ce484222325L;
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    return h;
  }

  /** SplitMix64's finaliser: spreads every input bit over the output. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}
