package org.alexkafka.ingest.source.http;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;

/**
 * The reads of one request, each with a deadline, so a client that stalls or trickles cannot hold
 * its connection (and its thread) for long. The head (request line and headers) must arrive whole
 * within the read timeout. The body may pause for at most the read timeout between reads, and on
 * average must keep up {@link #MIN_BODY_BYTES_PER_SECOND}: one byte every few seconds resets a
 * plain inactivity timeout forever, this deadline it does not.
 */
final class ReadDeadline extends InputStream {

  /** 16 KiB/s: a 64 MiB upload may take 68 minutes; a trickle of a few bytes is cut at the read timeout. */
  static final long MIN_BODY_BYTES_PER_SECOND = 16 * 1024;

  private final Socket socket;
  private final InputStream in;
  private final long readTimeoutNanos;
  private long startNanos;
  private long bodyBytes;
  private boolean body;

  ReadDeadline(Socket socket, InputStream in, Duration readTimeout) {
    this.socket = socket;
    this.in = in;
    this.readTimeoutNanos = readTimeout.toNanos();
    this.startNanos = System.nanoTime();
  }

  /** From now on the reads are the body's: each may wait the read timeout, within the rate deadline. */
  void startBody() {
    body = true;
    bodyBytes = 0;
    startNanos = System.nanoTime();
  }

  @Override
  public int read() throws IOException {
    arm();
    try {
      int b = in.read();
      if (b >= 0) {
        bodyBytes++;
      }
      return b;
    } catch (SocketTimeoutException e) {
      throw timedOut();
    }
  }

  @Override
  public int read(byte[] buf, int off, int len) throws IOException {
    arm();
    try {
      int n = in.read(buf, off, len);
      if (n > 0) {
        bodyBytes += n;
      }
      return n;
    } catch (SocketTimeoutException e) {
      throw timedOut();
    }
  }

  @Override
  public int available() throws IOException {
    return in.available();
  }

  private void arm() throws IOException {
    long now = System.nanoTime();
    long deadline = startNanos + readTimeoutNanos;
    if (body) {
      deadline += bodyBytes * 1_000_000_000L / MIN_BODY_BYTES_PER_SECOND;
    }
    long wait = Math.min(readTimeoutNanos, deadline - now);
    if (wait <= 0 && in.available() == 0) {
      throw timedOut();
    }
    socket.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, wait / 1_000_000)));
  }

  private RequestTimeout timedOut() {
    return new RequestTimeout(body
        ? "the request body did not arrive in time (" + bodyBytes + " bytes read; at most "
            + readTimeoutNanos / 1_000_000 + " ms without data and at least " + MIN_BODY_BYTES_PER_SECOND + " bytes/s)"
        : "the request headers did not arrive within " + readTimeoutNanos / 1_000_000 + " ms");
  }

  /** A read ran past its deadline; the server answers 408 and closes the connection. */
  static final class RequestTimeout extends IOException {
    RequestTimeout(String message) {
      super(message);
    }
  }
}
