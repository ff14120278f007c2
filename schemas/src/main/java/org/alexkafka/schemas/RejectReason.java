package org.alexkafka.schemas;

/**
 * Why an input was not published: the machine-readable {@code reason} of a {@link Rejection} record
 * on images.rejected, one list for every stage that writes there (the record's {@code stage} says
 * which). Ingest: a file or upload that is no usable picture, or a label problem; augment: a record
 * on the images topic it cannot augment.
 */
public enum RejectReason {
  // ingest
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
  INTERNAL_ERROR("internal-error"),

  // augment (UNKNOWN_LABEL and INVALID_LABEL too: a label missing from, or unusable on, the labels topic)
  /** A record that is not an Image in any schema this version knows, or a tombstone. */
  POISON_RECORD("poison-record"),
  /** An Image in a schema (fingerprint) this version cannot read, e.g. a newer one. */
  UNKNOWN_SCHEMA("unknown-schema"),
  /** The pixels do not have width x height x 3 bytes. */
  WRONG_PIXEL_LENGTH("wrong-pixel-length"),
  /** The image is not the square size augment crops from. */
  WRONG_SIZE("wrong-size"),
  /** A processor threw on the record: the backstop behind the explicit checks. */
  PROCESSING_ERROR("processing-error");

  private final String code;

  RejectReason(String code) {
    this.code = code;
  }

  /** The code written to the Rejection record and the metrics tag, e.g. "too-large". */
  public String code() {
    return code;
  }
}
