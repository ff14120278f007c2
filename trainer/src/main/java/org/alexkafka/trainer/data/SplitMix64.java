package org.alexkafka.trainer.data;

/**
 * A tiny seeded generator whose whole state is one long, so a checkpoint can store it and a
 * resumed run draws the same numbers (java.util.Random hides its state).
 */
public final class SplitMix64 {

  private long state;

  public SplitMix64(long state) {
    this.state = state;
  }

  public long state() {
    return state;
  }

  public long nextLong() {
    long z = (state += 0x9E3779B97F4A7C15L);
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Uniform in [0, bound). */
  public int nextInt(int bound) {
    if (bound <= 0) {
      throw new IllegalArgumentException("bound must be positive");
    }
    return (int) Math.floorMod(nextLong() >>> 1, (long) bound);
  }
}
