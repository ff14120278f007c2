package org.alexkafka.ingest.source;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.EofException;
import org.eclipse.jetty.server.Request;

/**
 * Reads one request's body through Jetty's asynchronous content API, so a slow client holds no
 * thread while its bytes are on the way. Jetty decodes the framing (Content-Length or chunked) and
 * sends {@code 100 Continue} on the first read; a stall longer than the connector's idle timeout
 * (the read timeout) arrives here as a {@link TimeoutException} and is answered 408. What Jetty does
 * not check is a client that keeps the connection alive with a byte now and then: the body must also
 * arrive at {@link #MIN_BYTES_PER_SECOND} on average after a grace of one read timeout. (Jetty's
 * {@code MinimumDataRateHandler} checks the rate from the first byte on, with no grace, which refuses
 * ordinary uploads over a slow start; {@code HttpConfiguration.setMinRequestDataRate} applies only
 * to servlets.)
 */
final class UploadBody implements Runnable {

  /** 16 KiB/s: a 64 MiB upload may take 68 minutes; a trickle of a few bytes is cut at the read timeout. */
  static final long MIN_BYTES_PER_SECOND = 16 * 1024;

  /**
   * A body over the limit is still read, and thrown away, up to this many bytes before it is
   * answered 413: an answer sent while the client is still sending makes the close reset the
   * connection, and the reset can discard the answer before the client reads it (nginx's lingering
   * close does the same). Beyond this the answer goes at once.
   */
  static final long DISCARD_BYTES = 16L * 1024 * 1024;

  /** Where the body, or the reason it was refused, goes; called once, on the thread that read the last bytes. */
  interface Outcome {
    void body(byte[] bytes);

    void refused(int status, String message);
  }

  private final Request request;
  private final long maxBytes;
  private final long readTimeoutNanos;
  private final long declared; // -1: chunked
  private final Outcome outcome;
  private final ByteArrayOutputStream bytes;
  private long startNanos;
  private long read;
  /** Set once the body is refused while it is still arriving: the rest is read and thrown away, then this is the answer. */
  private int discardStatus;
  private String discardMessage;
  private final UploadMemory.Held held;

  UploadBody(Request request, long maxBytes, Duration readTimeout, UploadMemory memory, Outcome outcome) {
    this.request = request;
    this.held = memory.hold();
    this.maxBytes = maxBytes;
    this.readTimeoutNanos = readTimeout.toNanos();
    this.declared = request.getLength();
    this.outcome = outcome;
    // Memory grows with what arrives, not with what is declared.
    this.bytes = new ByteArrayOutputStream((int) Math.min(64 * 1024, Math.max(declared, 1024)));
  }

  /**
   * Starts reading. A declared length over the limit is answered 413 without keeping a byte: once
   * the body is discarded, or at once when it is over {@link #DISCARD_BYTES}.
   */
  void start() {
    if (declared > maxBytes) {
      if (declared > DISCARD_BYTES) {
        outcome.refused(413, overLimit());
        return;
      }
      discard(413, overLimit());
    }
    startNanos = System.nanoTime();
    run();
  }

  /** Gives back the memory the body held: once it has been answered. */
  void release() {
    held.release();
  }

  private void discard(int status, String message) {
    discardStatus = status;
    discardMessage = message;
    bytes.reset(); // nothing more is kept
    held.release();
  }

  private void refuse(int status, String message) {
    held.release();
    outcome.refused(status, message);
  }

  private String overLimit() {
    return (declared >= 0 ? "body of " + declared + " bytes" : "body") + " is over the limit of " + maxBytes + " bytes";
  }

  /** Reads what is there; asks Jetty to call again when more arrives. */
  @Override
  public void run() {
    while (true) {
      Content.Chunk chunk = request.read();
      if (chunk == null) {
        request.demand(this);
        return;
      }
      if (Content.Chunk.isFailure(chunk)) {
        failed(chunk.getFailure());
        return;
      }
      boolean last = chunk.isLast();
      ByteBuffer data = chunk.getByteBuffer();
      int n = data.remaining();
      if (discardStatus == 0 && read + n > maxBytes) {
        discard(413, overLimit());
      } else if (discardStatus == 0 && !held.growTo(read + n)) {
        discard(503, "the endpoint holds as many upload bodies in memory as it may; try again shortly");
      }
      if (discardStatus == 0 && n > 0) {
        byte[] copy = new byte[n];
        data.get(copy);
        bytes.write(copy, 0, n);
      }
      read += n;
      chunk.release();
      if (discardStatus != 0 && (last || read > DISCARD_BYTES)) {
        outcome.refused(discardStatus, discardMessage);
        return;
      }
      if (last) {
        outcome.body(bytes.toByteArray());
        return;
      }
      if (System.nanoTime() - startNanos > readTimeoutNanos + read * 1_000_000_000L / MIN_BYTES_PER_SECOND) {
        refuse(408, tooSlow());
        return;
      }
    }
  }

  private void failed(Throwable failure) {
    if (discardStatus != 0) { // whatever went wrong while the rest was thrown away, the answer stays
      outcome.refused(discardStatus, discardMessage);
    } else if (failure instanceof TimeoutException) { // Jetty's idle timeout: nothing arrived for the read timeout
      refuse(408, tooSlow());
    } else if (failure instanceof EofException) { // the client closed inside the body (or broke the chunked framing)
      refuse(400, declared >= 0 ? "connection closed after " + read + " of " + declared + " body bytes"
          : "the chunked body is malformed or was cut short after " + read + " bytes");
    } else if (failure instanceof HttpException http && http.getCode() < 500) { // e.g. malformed chunked framing
      refuse(http.getCode(), http.getReason() == null ? "malformed request body" : http.getReason());
    } else {
      refuse(400, "the request body could not be read: " + failure);
    }
  }

  private String tooSlow() {
    return "the request body did not arrive in time (" + read + " bytes read; at most " + readTimeoutNanos / 1_000_000
        + " ms without data and at least " + MIN_BYTES_PER_SECOND + " bytes/s)";
  }
}
