package org.alexkafka.trainer.data;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.errors.InterruptException;

/**
 * Reads an epoch plan's blocks ahead of the loader, several at a time: block i by reader i mod R,
 * each reader with its own consumer, at most {@code ahead} blocks beyond the one being taken. A
 * block costs a seek and a fetch round trip; one reader pays them one after the other, R readers
 * overlap them. What the loader sees does not change: the same records of the same blocks, taken
 * in the plan's order.
 */
final class BlockPrefetch implements AutoCloseable {

  private final List<EpochPlan.Block> blocks;
  private final int first;
  private final long firstOffset;
  private final int ahead;
  private final Map<Integer, TrainSample[]> ready = new HashMap<>();
  private final List<Thread> workers = new ArrayList<>();
  private RuntimeException failure;
  private int taking; // index of the block the loader takes from
  private boolean closed;

  /**
   * @param first the first block to read (a resumed epoch starts within the plan)
   * @param firstOffset where to start in that block (its start, or where a resumed epoch stopped)
   */
  BlockPrefetch(List<BlockReader> readers, List<EpochPlan.Block> blocks, int first, long firstOffset, int ahead) {
    this.blocks = blocks;
    this.first = first;
    this.firstOffset = firstOffset;
    this.ahead = Math.max(ahead, readers.size());
    this.taking = first;
    for (int w = 0; w < readers.size(); w++) {
      BlockReader reader = readers.get(w);
      int start = first + w;
      int step = readers.size();
      Thread t = new Thread(() -> fetch(reader, start, step), "block-prefetch-" + w);
      t.setDaemon(true);
      workers.add(t);
    }
    workers.forEach(Thread::start);
  }

  /** The sample at {@code ref} (null when that offset holds none); refs come in the plan's order. */
  TrainSample take(SampleRef ref) throws InterruptedException {
    synchronized (this) {
      while (!contains(blocks.get(taking), ref)) {
        ready.remove(taking);
        taking++;
        notifyAll(); // a reader may start the next block
      }
      while (!ready.containsKey(taking)) {
        if (failure != null) {
          throw failure;
        }
        wait();
      }
      EpochPlan.Block b = blocks.get(taking);
      return ready.get(taking)[(int) (ref.offset() - b.start())];
    }
  }

  private static boolean contains(EpochPlan.Block b, SampleRef ref) {
    return ref.partition() == b.partition() && ref.offset() >= b.start() && ref.offset() < b.end();
  }

  private void fetch(BlockReader reader, int start, int step) {
    try {
      for (int i = start; i < blocks.size(); i += step) {
        synchronized (this) {
          while (i >= taking + ahead && !closed) {
            wait();
          }
          if (closed) {
            return;
          }
        }
        EpochPlan.Block b = blocks.get(i);
        TrainSample[] samples = new TrainSample[(int) (b.end() - b.start())];
        for (long o = i == first ? firstOffset : b.start(); o < b.end(); o++) {
          samples[(int) (o - b.start())] = reader.read(new SampleRef(b.partition(), o));
        }
        synchronized (this) {
          ready.put(i, samples);
          notifyAll();
        }
      }
    } catch (InterruptedException | InterruptException e) {
      // closed
    } catch (RuntimeException e) {
      synchronized (this) {
        failure = e;
        notifyAll();
      }
    } finally {
      reader.forgetPosition(); // a read may have been cut short
    }
  }

  @Override
  public void close() {
    synchronized (this) {
      closed = true;
      notifyAll();
    }
    for (Thread t : workers) {
      t.interrupt();
    }
    for (Thread t : workers) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
