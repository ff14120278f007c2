package org.alexkafka.ingest.source.http;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small HTTP/1.1 server that slow or stalled clients cannot exhaust: every read has a deadline
 * ({@link ReadDeadline}: a client that stops sending is answered 408 and cut off), at most
 * {@code maxConnections} connections are served at once (one more is answered 503 at once instead
 * of waiting in a queue behind them), and each connection carries one request.
 *
 * <p>Why not the JDK's {@code com.sun.net.httpserver}: it reads request heads and bodies on its
 * executor's threads with no timeout (its only limits, {@code sun.net.httpserver.maxReqTime} and
 * {@code idleInterval}, are JVM-wide system properties read once), so a few hundred connections that
 * send headers and then stall hold every thread and nobody else gets an answer.
 */
public final class BoundedHttpServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(BoundedHttpServer.class);
  /** How long a refused request's unread body is read and dropped, so that the client sees the answer. */
  private static final Duration DRAIN_TIME = Duration.ofSeconds(2);
  private static final long OVERLOAD_LOG_INTERVAL_NANOS = Duration.ofSeconds(10).toNanos();

  /** Answers one request; the body is read through {@link Request#readBody}, if at all. */
  @FunctionalInterface
  public interface Handler {
    Response handle(Request request) throws IOException, HttpError;
  }

  /** The response for a request the server refuses itself (malformed, too slow, over capacity). */
  @FunctionalInterface
  public interface ErrorResponses {
    Response of(int status, String message);
  }

  /**
   * @param readTimeout see {@link ReadDeadline}
   * @param maxConnections connections served at once; each holds one thread
   * @param drainBytes most bytes of an unread body read and dropped after the response
   */
  public record Limits(Duration readTimeout, int maxConnections, long drainBytes) {
    public Limits {
      if (readTimeout.isNegative() || readTimeout.isZero()) {
        throw new IllegalArgumentException("the read timeout must be positive: " + readTimeout);
      }
      if (maxConnections < 1) {
        throw new IllegalArgumentException("the connection limit must be positive: " + maxConnections);
      }
    }
  }

  private final ServerSocket server;
  private final Limits limits;
  private final Handler handler;
  private final ErrorResponses errors;
  private final Semaphore slots;
  private final ExecutorService connections;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final AtomicLong lastOverloadLog = new AtomicLong(System.nanoTime() - OVERLOAD_LOG_INTERVAL_NANOS);
  private final Thread acceptor;
  private volatile boolean closed;

  public BoundedHttpServer(InetSocketAddress address, Limits limits, Handler handler, ErrorResponses errors, String name)
      throws IOException {
    this.limits = limits;
    this.handler = handler;
    this.errors = errors;
    this.slots = new Semaphore(limits.maxConnections());
    this.server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(address, 256);
    this.connections = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    });
    this.acceptor = new Thread(this::acceptLoop, name + "-accept");
    acceptor.setDaemon(true);
  }

  public void start() {
    acceptor.start();
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) server.getLocalSocketAddress();
  }

  private void acceptLoop() {
    while (!closed) {
      Socket socket;
      try {
        socket = server.accept();
      } catch (IOException e) {
        if (!closed) {
          log.warn("accept failed: {}", e.toString());
        }
        continue;
      }
      if (!slots.tryAcquire()) {
        refuse(socket);
        continue;
      }
      open.add(socket);
      try {
        connections.execute(() -> {
          try {
            serve(socket);
          } finally {
            open.remove(socket);
            slots.release();
          }
        });
      } catch (RejectedExecutionException e) { // closing
        open.remove(socket);
        slots.release();
        closeQuietly(socket);
      }
    }
  }

  /** Over the connection limit: 503 now (a small answer fits the socket's send buffer: no blocking). */
  private void refuse(Socket socket) {
    long now = System.nanoTime();
    long last = lastOverloadLog.get();
    if (now - last >= OVERLOAD_LOG_INTERVAL_NANOS && lastOverloadLog.compareAndSet(last, now)) {
      log.warn("{} connections open, the limit: refusing new ones with 503 until some finish or time out",
          limits.maxConnections());
    }
    try (socket) {
      errors.of(503, "too many connections (" + limits.maxConnections() + "); try again shortly")
          .withHeader("Retry-After", "1").writeTo(socket.getOutputStream());
    } catch (IOException e) {
      log.debug("could not refuse {}: {}", socket.getRemoteSocketAddress(), e.toString());
    }
  }

  private void serve(Socket socket) {
    try (socket) {
      socket.setTcpNoDelay(true);
      ReadDeadline deadline = new ReadDeadline(socket, socket.getInputStream(), limits.readTimeout());
      InputStream in = new BufferedInputStream(deadline, 64 * 1024);
      OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 16 * 1024);
      Request request = null;
      Response response;
      boolean timedOut = false;
      try {
        Optional<RequestHead> head = RequestHead.read(in);
        if (head.isEmpty()) {
          return; // connected and closed without a request
        }
        request = new Request(head.get(), socket.getInetAddress(), in, deadline, out);
        response = handler.handle(request);
      } catch (HttpError e) {
        response = errors.of(e.status(), e.getMessage());
      } catch (ReadDeadline.RequestTimeout e) {
        log.debug("cut off {}: {}", socket.getRemoteSocketAddress(), e.getMessage());
        timedOut = true;
        response = errors.of(408, e.getMessage());
      } catch (RuntimeException e) {
        log.error("request from {} failed", socket.getRemoteSocketAddress(), e);
        response = errors.of(500, "internal error: " + e);
      }
      response.writeTo(out);
      if (!timedOut && (request == null || request.mayHaveUnreadBody())) {
        drain(socket);
      }
    } catch (SocketException e) {
      log.debug("connection from {} ended: {}", socket.getRemoteSocketAddress(), e.toString());
    } catch (IOException e) {
      log.debug("connection from {} failed: {}", socket.getRemoteSocketAddress(), e.toString());
    }
  }

  /**
   * A client that sends its body without waiting (no {@code Expect: 100-continue}) would get a reset
   * instead of the answer if the socket closed with its bytes unread: the answer is sent and the
   * sending side shut, then what still arrives is read and dropped for a short while.
   */
  private void drain(Socket socket) throws IOException {
    socket.shutdownOutput();
    long until = System.nanoTime() + DRAIN_TIME.toNanos();
    byte[] buf = new byte[64 * 1024];
    long dropped = 0;
    while (dropped < limits.drainBytes()) {
      long left = until - System.nanoTime();
      if (left <= 0) {
        return;
      }
      socket.setSoTimeout((int) Math.max(1, left / 1_000_000));
      int n;
      try {
        n = socket.getInputStream().read(buf);
      } catch (IOException e) {
        return;
      }
      if (n < 0) {
        return;
      }
      dropped += n;
    }
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      log.debug("closing the server socket: {}", e.toString());
    }
    open.forEach(BoundedHttpServer::closeQuietly); // wakes threads blocked in a read
    connections.shutdownNow();
    try {
      acceptor.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
