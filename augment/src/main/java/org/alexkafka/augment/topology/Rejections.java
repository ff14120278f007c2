package org.alexkafka.augment.topology;

import java.nio.ByteBuffer;
import java.time.Instant;
import org.alexkafka.schemas.RejectReason;
import org.alexkafka.schemas.Rejection;
import org.alexkafka.schemas.serde.UnknownSchemaException;
import org.alexkafka.schemas.topics.Topics;

/** Builds the dead-letter records of the augment stage. */
final class Rejections {

  // The codes are defined once, for every stage, in schemas' RejectReason.
  static final String POISON = RejectReason.POISON_RECORD.code();
  static final String WRONG_PIXEL_LENGTH = RejectReason.WRONG_PIXEL_LENGTH.code();
  static final String WRONG_SIZE = RejectReason.WRONG_SIZE.code();
  static final String UNKNOWN_LABEL = RejectReason.UNKNOWN_LABEL.code();
  static final String UNKNOWN_SCHEMA = RejectReason.UNKNOWN_SCHEMA.code();
  static final String INVALID_LABEL = RejectReason.INVALID_LABEL.code();
  static final String PROCESSING_ERROR = RejectReason.PROCESSING_ERROR.code();

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
