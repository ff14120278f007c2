package org.alexkafka.augment.topology;

import java.nio.ByteBuffer;
import java.time.Instant;
import org.alexkafka.schemas.Rejection;
import org.alexkafka.schemas.serde.UnknownSchemaException;
import org.alexkafka.schemas.topics.Topics;

/** Builds the dead-letter records of the augment stage. */
final class Rejections {

  static final String POISON = "poison-record";
  static final String WRONG_PIXEL_LENGTH = "wrong-pixel-length";
  static final String WRONG_SIZE = "wrong-size";
  static final String UNKNOWN_LABEL = "unknown-label";
  /** A record in a schema (fingerprint) this version cannot read, e.g. a newer one. */
  static final String UNKNOWN_SCHEMA = "unknown-schema";
  /** The labels topic's entry for the image's class is unusable (negative index, another class id). */
  static final String INVALID_LABEL = "invalid-label";
  /** A processor threw on the record: the backstop behind the explicit checks. */
  static final String PROCESSING_ERROR = "processing-error";

  /** Payloads above this are not kept (the rejected topic's limit, less room for the rest). */
  private static final int MAX_PAYLOAD = Topics.IMAGE_MAX_MESSAGE_BYTES - 64 * 1024;

  private Rejections() {}

  /** The reason for a record that cannot be decoded: {@code unknown-schema} or {@code poison-record}. */
  static String undecodable(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof UnknownSchemaException) {
        return UNKNOWN_SCHEMA;
      }
    }
    return POISON;
  }

  static Rejection of(String source, String reason, String detail, String imageId, byte[] payload, long nowMs) {
    return Rejection.newBuilder()
        .setStage("augment")
        .setSource(source)
        .setReason(reason)
        .setDetail(detail)
        .setImageId(imageId)
        .setPayload(payload == null || payload.length > MAX_PAYLOAD ? null : ByteBuffer.wrap(payload))
        .setRejectedAt(Instant.ofEpochMilli(nowMs))
        .build();
  }
}
