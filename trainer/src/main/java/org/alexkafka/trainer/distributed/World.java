package org.alexkafka.trainer.distributed;

import java.time.Duration;
import java.util.Map;

/**
 * Where this process stands in a data-parallel group, with torchrun's names: {@code RANK} of
 * {@code WORLD_SIZE} processes (one per device), {@code LOCAL_RANK} on its host (its CUDA device),
 * and the rendezvous {@code MASTER_ADDR:MASTER_PORT}, where rank 0 serves the group's store. Rank 0
 * binds the store to that address only: 127.0.0.1 keeps the group on this host; another host's
 * ranks need an address of rank 0's host that they can reach.
 *
 * @param timeout how long a rank waits for the others (joining, a collective, rank 0's
 *     evaluation) before it gives up
 */
public record World(int rank, int size, int localRank, String masterAddr, int masterPort, Duration timeout) {

  public static final String DEFAULT_ADDR = "127.0.0.1";
  public static final int DEFAULT_PORT = 29500; // torchrun's
  public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(30); // c10d's

  public World {
    if (size < 1 || rank < 0 || rank >= size) {
      throw new IllegalArgumentException("need 0 <= rank < world size, got rank " + rank + " of " + size);
    }
    if (localRank < 0) {
      throw new IllegalArgumentException("local rank must be >= 0, got " + localRank);
    }
    if (masterAddr == null || masterAddr.isBlank()) {
      throw new IllegalArgumentException("the rendezvous address (MASTER_ADDR) is empty");
    }
    if (masterPort < 1 || masterPort > 65535) {
      throw new IllegalArgumentException("the rendezvous port (MASTER_PORT) must be 1..65535, got " + masterPort);
    }
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("the group timeout must be positive, got " + timeout);
    }
  }

  /** One process: no group. */
  public static World single() {
    return new World(0, 1, 0, DEFAULT_ADDR, DEFAULT_PORT, DEFAULT_TIMEOUT);
  }

  /** From torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT); absent ones take the defaults. */
  public static World fromEnvironment(Map<String, String> env) {
    int rank = intOf(env, "RANK", 0);
    return new World(rank, intOf(env, "WORLD_SIZE", 1), intOf(env, "LOCAL_RANK", rank),
        env.getOrDefault("MASTER_ADDR", DEFAULT_ADDR), intOf(env, "MASTER_PORT", DEFAULT_PORT), DEFAULT_TIMEOUT);
  }

  public boolean distributed() {
    return size > 1;
  }

  public boolean leader() {
    return rank == 0;
  }

  @Override
  public String toString() {
    return "rank " + rank + " of " + size + (size > 1 ? " (rendezvous " + masterAddr + ":" + masterPort + ")" : "");
  }

  private static int intOf(Map<String, String> env, String name, int fallback) {
    String v = env.get(name);
    if (v == null || v.isBlank()) {
      return fallback;
    }
    try {
      return Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " must be a whole number, got '" + v + "'");
    }
  }
}
