package org.alexkafka.trainer.data;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.alexkafka.schemas.Sample;

/**
 * The pixel buffers of training samples, used again once their batch is assembled. A sample waits
 * in the shuffle buffer (1,024 of them, 150 KB each at 224 crops) long enough to outlive a young
 * collection, so a fresh buffer per record was copied by the collector into survivor and old
 * regions and died there; pooled buffers stay where they are. The readers' deserializers take
 * from the pool ({@link ReusingSampleDeserializer}), the batch feed gives back what it has
 * assembled; the pool keeps at most {@code capacity} buffers (what one epoch has in flight).
 */
public final class PixelBuffers {

  /** Buffers kept: more than the shuffle buffer, the blocks read ahead and the batches in flight hold. */
  public static final int DEFAULT_CAPACITY = 4096;

  private final ConcurrentLinkedQueue<ByteBuffer> free = new ConcurrentLinkedQueue<>();
  private final AtomicInteger kept = new AtomicInteger();
  private final AtomicLong reused = new AtomicLong();
  private final int capacity;

  public PixelBuffers(int capacity) {
    this.capacity = capacity;
  }

  /** A buffer to decode into (any size: the decoder allocates anew if it is too small), or null. */
  ByteBuffer take() {
    ByteBuffer b = free.poll();
    if (b != null) {
      kept.decrementAndGet();
      reused.incrementAndGet();
    }
    return b;
  }

  /**
   * Takes back the pixel buffers of samples whose batch has been assembled, and clears them from
   * the samples: nothing may read those pixels any more (a stale read would see another sample's).
   */
  public void giveBack(List<TrainSample> samples) {
    for (TrainSample t : samples) {
      Sample s = t.sample();
      ByteBuffer b = s.getPixels();
      s.setPixels(null);
      if (b != null && b.hasArray() && kept.get() < capacity) {
        kept.incrementAndGet();
        free.offer(b);
      }
    }
  }

  /** Buffers handed out to be decoded into again. */
  public long reused() {
    return reused.get();
  }

  /** Buffers waiting to be used again. */
  public int size() {
    return kept.get();
  }
}
