package org.alexkafka.ingest.source;

import java.util.concurrent.Semaphore;

/**
 * The bytes of upload bodies held in memory at once, across all connections: a body is kept whole
 * until it is decoded, so without a bound many concurrent uploads near the size limit (256
 * connections of 64 MB) would exhaust the heap. A body takes its bytes as they arrive and gives
 * them back once it is answered; one that finds the budget spent is refused 503 (Retry-After).
 * Counted in KiB, so that the budget of a large heap fits a semaphore.
 */
final class UploadMemory {

  private final Semaphore kib;

  UploadMemory(long bytes) {
    if (bytes < 1024) {
      throw new IllegalArgumentException("the upload memory budget needs at least 1 KiB, got " + bytes);
    }
    this.kib = new Semaphore((int) Math.min(Integer.MAX_VALUE, bytes / 1024));
  }

  /** {@code configured} bytes (0: a quarter of the heap), and at least one body of the largest size. */
  static UploadMemory of(long configured, long maxUploadBytes) {
    long budget = configured > 0 ? configured : Runtime.getRuntime().maxMemory() / 4;
    return new UploadMemory(Math.max(maxUploadBytes + 1024, budget));
  }

  /** What one body holds: grows with what arrives, all given back at once. */
  final class Held {
    private int heldKib;

    /** Takes room for {@code total} bytes held (not more than once per KiB); false when the budget is spent. */
    boolean growTo(long total) {
      int need = (int) Math.min(Integer.MAX_VALUE, (total + 1023) / 1024) - heldKib;
      if (need <= 0) {
        return true;
      }
      if (!kib.tryAcquire(need)) {
        return false;
      }
      heldKib += need;
      return true;
    }

    void release() {
      kib.release(heldKib);
      heldKib = 0;
    }
  }

  Held hold() {
    return new Held();
  }
}
