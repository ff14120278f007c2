package org.alexkafka.ingest.source;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.util.thread.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The upload endpoint's connections, as Jetty opens and closes them. Two things Jetty's own limits
 * do not do:
 * <ul>
 *   <li>at most {@code maxConnections} are served at once; the others are still accepted (up to the
 *       hard cap of Jetty's {@code NetworkConnectionLimit}) so that their request can be answered
 *       503 at once instead of waiting in the accept queue;
 *   <li>a request's head must arrive whole within the read timeout of the connection being opened:
 *       Jetty's idle timeout is reset by every byte, so a client that trickles its headers a byte at
 *       a time would otherwise hold its connection for as long as it likes. Such a connection is
 *       closed without an answer, as Jetty itself does when a head stalls past the idle timeout.
 * </ul>
 * Each connection carries one request (persistent connections are off), so a slot is given back
 * when that request completes or when the connection closes, whichever comes first.
 */
final class UploadConnections implements Connection.Listener {

  private static final Logger log = LoggerFactory.getLogger(UploadConnections.class);
  private static final long OVERLOAD_LOG_INTERVAL_NANOS = Duration.ofSeconds(10).toNanos();

  /** One connection: whether it holds one of the served slots, and whether its request head arrived. */
  static final class Slot {
    private final boolean served;
    private final Semaphore owner;
    private final AtomicBoolean held;
    private final AtomicBoolean headArrived = new AtomicBoolean();
    private volatile Scheduler.Task headDeadline;

    private Slot(boolean served, Semaphore owner) {
      this.served = served;
      this.owner = owner;
      this.held = new AtomicBoolean(served);
    }

    /** False: over the limit, to be answered 503. */
    boolean served() {
      return served;
    }

    /** Gives the served slot back (once). */
    void release() {
      if (held.compareAndSet(true, false)) {
        owner.release();
      }
    }
  }

  private final int maxConnections;
  private final long headTimeoutMillis;
  private final Scheduler scheduler;
  private final Semaphore free;
  private final Map<Connection, Slot> slots = new ConcurrentHashMap<>();
  private final AtomicLong lastOverloadLog = new AtomicLong(System.nanoTime() - OVERLOAD_LOG_INTERVAL_NANOS);

  UploadConnections(int maxConnections, Duration headTimeout, Scheduler scheduler) {
    this.maxConnections = maxConnections;
    this.headTimeoutMillis = headTimeout.toMillis();
    this.scheduler = scheduler;
    this.free = new Semaphore(maxConnections);
  }

  @Override
  public void onOpened(Connection connection) {
    Slot slot = new Slot(free.tryAcquire(), free);
    if (!slot.served) {
      logOverload();
    }
    slots.put(connection, slot);
    slot.headDeadline = scheduler.schedule(() -> {
      if (slot.headArrived.compareAndSet(false, true)) { // no request yet: cut off
        log.debug("closing {}: no complete request head within {} ms", connection.getEndPoint().getRemoteSocketAddress(),
            headTimeoutMillis);
        connection.getEndPoint().close();
      }
    }, headTimeoutMillis, TimeUnit.MILLISECONDS);
  }

  @Override
  public void onClosed(Connection connection) {
    Slot slot = slots.remove(connection);
    if (slot != null) {
      Scheduler.Task deadline = slot.headDeadline;
      if (deadline != null) {
        deadline.cancel();
      }
      slot.release();
    }
  }

  /**
   * The request head on {@code connection} is in: its deadline no longer applies. Empty when the
   * connection is unknown here or was just cut off at its deadline.
   */
  Optional<Slot> headArrived(Connection connection) {
    Slot slot = slots.get(connection);
    if (slot == null || !slot.headArrived.compareAndSet(false, true)) {
      return Optional.empty();
    }
    Scheduler.Task deadline = slot.headDeadline;
    if (deadline != null) {
      deadline.cancel();
    }
    return Optional.of(slot);
  }

  int maxConnections() {
    return maxConnections;
  }

  private void logOverload() {
    long now = System.nanoTime();
    long last = lastOverloadLog.get();
    if (now - last >= OVERLOAD_LOG_INTERVAL_NANOS && lastOverloadLog.compareAndSet(last, now)) {
      log.warn("{} connections open, the limit: answering new ones 503 until some finish or time out", maxConnections);
    }
  }
}
