package org.alexkafka.trainer.train;

import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.alexkafka.schemas.config.KafkaConnection;

/**
 * The trainer as an in-process service for the all-in-one runner: {@link #start()} runs the
 * training loop on its own thread (bounded by the config's epochs, maxIterations or maxSeconds, or
 * endless with follow); {@link #close()} asks it to stop after the current step, waits for its
 * final checkpoint and returns.
 */
public final class TrainerService implements AutoCloseable {

  private final Trainer trainer;
  private final CompletableFuture<Trainer.Result> result = new CompletableFuture<>();
  private Thread thread;

  public TrainerService(TrainerConfig config, KafkaConnection kafka, MeterRegistry registry) {
    this.trainer = new Trainer(config, kafka, registry);
  }

  public synchronized TrainerService start() {
    if (thread != null) {
      throw new IllegalStateException("already started");
    }
    thread = new Thread(() -> {
      try {
        result.complete(trainer.run());
      } catch (Throwable t) {
        result.completeExceptionally(t);
      }
    }, "trainer");
    thread.start();
    return this;
  }

  public Trainer trainer() {
    return trainer;
  }

  /** Waits for the loop to end by itself (epochs or limits reached). */
  public Trainer.Result await(long timeout, TimeUnit unit) throws InterruptedException, TimeoutException {
    try {
      return result.get(timeout, unit);
    } catch (ExecutionException e) {
      throw new IllegalStateException("training failed: " + e.getCause().getMessage(), e.getCause());
    }
  }

  public boolean isDone() {
    return result.isDone();
  }

  @Override
  public void close() throws InterruptedException {
    trainer.stop();
    if (thread != null) {
      thread.join();
    }
  }
}
