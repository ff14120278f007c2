package org.alexkafka.trainer.data;

import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import org.alexkafka.trainer.engine.Batch;

/**
 * Assembles the batches of one epoch on its own thread, ahead of the engine, in a bounded queue:
 * the paper's CPU prepared the next batch while the GPUs trained on this one. Each batch carries
 * the epoch's cursor just after it, so a checkpoint records what was trained, not what was read
 * ahead.
 *
 * <p>One feed per epoch: {@link #start} after {@link ShuffledEpoch#startEpoch} or {@link
 * ShuffledEpoch#restore}; the feed alone takes from the epoch until it hands out the last
 * (possibly short or empty) batch, marked {@link Fed#epochOver()}, and its thread ends.
 */
public final class BatchFeed implements AutoCloseable {

  /**
   * A batch ready for the engine: its samples (with their topic positions; their pixels, now in the
   * batch, are given back to the pool and cleared), the engine's form, the cursor after it.
   */
  public record Fed(List<TrainSample> samples, Batch batch, Cursor after, boolean epochOver) {
  }

  private record Item(Fed fed, RuntimeException failure) {
  }

  private final BatchAssembler assembler;
  private final int batchSize;
  private final int depth;
  private Thread thread;
  private BlockingQueue<Item> queue;

  /** @param depth batches assembled ahead (2: one being trained, one ready) */
  public BatchFeed(BatchAssembler assembler, int batchSize, int depth) {
    if (batchSize < 1 || depth < 1) {
      throw new IllegalArgumentException("batch and depth must be at least 1");
    }
    this.assembler = assembler;
    this.batchSize = batchSize;
    this.depth = depth;
  }

  /** Starts assembling the batches of {@code epoch}, which stands where the trainer stands. */
  public void start(ShuffledEpoch epoch) {
    stop();
    BlockingQueue<Item> out = new ArrayBlockingQueue<>(depth);
    queue = out;
    thread = new Thread(() -> feed(epoch, out), "batch-feed-epoch-" + epoch.epoch());
    thread.setDaemon(true);
    thread.start();
  }

  /** The next batch of the epoch (blocks until it is assembled). */
  public Fed next() {
    if (queue == null) {
      throw new IllegalStateException("the feed has not been started");
    }
    Item item;
    try {
      item = queue.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for a batch", e);
    }
    if (item.failure() != null) {
      throw item.failure();
    }
    if (item.fed().epochOver()) {
      join();
    }
    return item.fed();
  }

  @Override
  public void close() {
    stop();
  }

  private void feed(ShuffledEpoch epoch, BlockingQueue<Item> out) {
    try {
      while (true) {
        List<TrainSample> samples = epoch.take(batchSize);
        boolean over = samples.size() < batchSize;
        Batch batch = samples.isEmpty() ? null : assembler.batch(samples.stream().map(TrainSample::sample).toList());
        assembler.pixelBuffers().giveBack(samples); // assembled: the samples' pixels are read no more
        out.put(new Item(new Fed(samples, batch, epoch.cursor(), over), null));
        if (over) {
          return;
        }
      }
    } catch (InterruptedException e) {
      // stopped: the trainer closes or restarts the epoch
    } catch (RuntimeException e) {
      if (Thread.currentThread().isInterrupted()) {
        return; // the epoch's own wait was interrupted by stop()
      }
      try {
        out.put(new Item(null, e));
      } catch (InterruptedException stopped) {
        // nobody waits any more
      }
    }
  }

  private void stop() {
    if (thread != null) {
      thread.interrupt();
      join();
    }
    queue = null;
  }

  private void join() {
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    thread = null;
  }
}
