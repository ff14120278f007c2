package org.alexkafka.ingest.source;

import java.time.Duration;

/**
 * Who may write through the upload endpoint, and how much of it one client may hold.
 *
 * @param bindAddress address the endpoint listens on: 127.0.0.1 by default (this machine only);
 *     0.0.0.0 opens it on every interface
 * @param token bearer token every request must carry ({@code Authorization: Bearer <token>}), or
 *     null: none asked for
 * @param readTimeout how long the server waits for a request's headers, and at most between two
 *     reads of its body (the Jetty connector's idle timeout): a body that stalls longer (or trickles,
 *     see {@code UploadBody}) is answered 408 and cut off; headers not complete by then are cut off
 *     without an answer
 * @param maxConnections connections served at once; beyond, new ones are answered 503 at once (and
 *     beyond twice this many, and at least 16 more, Jetty stops accepting until some close)
 * @param allowNewClasses whether an upload may create a class the labels topic does not hold yet
 *     (without a synsets file; with one, its classes are the only ones)
 */
public record UploadSettings(String bindAddress, String token, Duration readTimeout, int maxConnections,
    boolean allowNewClasses, long maxBufferedBytes) {

  public static final String DEFAULT_BIND_ADDRESS = "127.0.0.1";
  public static final long DEFAULT_READ_TIMEOUT_MS = 15_000;
  public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofMillis(DEFAULT_READ_TIMEOUT_MS);
  /** A connection waiting on its client holds no thread; a stalled one is cut off after the read timeout. */
  public static final int DEFAULT_MAX_CONNECTIONS = 256;
  /** 0: a quarter of the heap (and at least one body of the largest size). */
  public static final long DEFAULT_MAX_BUFFERED_BYTES = 0;

  public UploadSettings {
    bindAddress = bindAddress == null || bindAddress.isBlank() ? DEFAULT_BIND_ADDRESS : bindAddress.strip();
    token = token == null || token.isBlank() ? null : token;
    readTimeout = readTimeout == null ? DEFAULT_READ_TIMEOUT : readTimeout;
    if (readTimeout.isNegative() || readTimeout.isZero()) {
      throw new IllegalArgumentException("--http-read-timeout-ms must be positive: " + readTimeout.toMillis());
    }
    if (maxBufferedBytes < 0) {
      throw new IllegalArgumentException("--http-max-buffered-mb must be 0 (a quarter of the heap) or positive");
    }
    if (maxConnections < 1) {
      throw new IllegalArgumentException("--http-max-connections must be positive: " + maxConnections);
    }
  }

  public static UploadSettings defaults() {
    return new UploadSettings(DEFAULT_BIND_ADDRESS, null, DEFAULT_READ_TIMEOUT, DEFAULT_MAX_CONNECTIONS, true,
        DEFAULT_MAX_BUFFERED_BYTES);
  }

  public UploadSettings withBindAddress(String address) {
    return new UploadSettings(address, token, readTimeout, maxConnections, allowNewClasses, maxBufferedBytes);
  }

  public UploadSettings withToken(String secret) {
    return new UploadSettings(bindAddress, secret, readTimeout, maxConnections, allowNewClasses, maxBufferedBytes);
  }

  public UploadSettings withReadTimeout(Duration timeout) {
    return new UploadSettings(bindAddress, token, timeout, maxConnections, allowNewClasses, maxBufferedBytes);
  }

  public UploadSettings withMaxConnections(int max) {
    return new UploadSettings(bindAddress, token, readTimeout, max, allowNewClasses, maxBufferedBytes);
  }

  public UploadSettings withNewClasses(boolean allowed) {
    return new UploadSettings(bindAddress, token, readTimeout, maxConnections, allowed, maxBufferedBytes);
  }

  public UploadSettings withMaxBufferedBytes(long bytes) {
    return new UploadSettings(bindAddress, token, readTimeout, maxConnections, allowNewClasses, bytes);
  }

  /** Never prints the token. */
  @Override
  public String toString() {
    return "UploadSettings[bindAddress=" + bindAddress + ", token=" + (token == null ? "none" : "***")
        + ", readTimeout=" + readTimeout + ", maxConnections=" + maxConnections + ", allowNewClasses=" + allowNewClasses
        + ", maxBufferedBytes=" + maxBufferedBytes + "]";
  }
}
