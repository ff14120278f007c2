package org.alexkafka.ingest;

/** Why an input was not published: the machine-readable {@code reason} of a Rejection record. */
public enum RejectReason {
  EMPTY("empty"),
  NOT_AN_IMAGE("not-an-image"),
  CORRUPT("corrupt"),
  TRUNCATED("truncated"),
  TOO_LARGE("too-large"),
  UNREADABLE("unreadable"),
  UNKNOWN_LABEL("unknown-label"),
  /** The class id is not well-formed (see ClassIds): a path, spaces, too long, ... */
  INVALID_LABEL("invalid-label"),
  /** The picture is published already under another class; the first class stays. */
  LABEL_CONFLICT("label-conflict"),
  /** Kafka did not take the record within the delivery timeout; the input can be ingested again. */
  PUBLISH_FAILED("publish-failed"),
  /** A bug or an unexpected failure inside the service; the detail says what. */
  INTERNAL_ERROR("internal-error");

  private final String code;

  RejectReason(String code) {
    this.code = code;
  }

  /** The code written to the Rejection record and the metrics tag, e.g. "too-large". */
  public String code() {
    return code;
  }
}
