package org.alexkafka.ingest.decode;

import org.alexkafka.schemas.RejectReason;

/** An input that is not a usable picture, with the reason and a human-readable detail. */
public final class DecodeException extends Exception {

  private final RejectReason reason;

  public DecodeException(RejectReason reason, String detail) {
    super(detail);
    this.reason = reason;
  }

  public DecodeException(RejectReason reason, String detail, Throwable cause) {
    super(detail, cause);
    this.reason = reason;
  }

  public RejectReason reason() {
    return reason;
  }
}
