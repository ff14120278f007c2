package org.alexkafka.ingest.source.http;

/** A request the server answers with {@code status} and {@code message} instead of handling it. */
public final class HttpError extends Exception {

  private final int status;

  public HttpError(int status, String message) {
    super(message);
    this.status = status;
  }

  public int status() {
    return status;
  }
}
