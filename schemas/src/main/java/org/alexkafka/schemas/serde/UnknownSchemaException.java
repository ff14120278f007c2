package org.alexkafka.schemas.serde;

import org.apache.kafka.common.errors.SerializationException;

/**
 * A record in Avro single-object encoding whose writer-schema fingerprint this reader does not
 * know: written by a newer producer (a schema from the future, even a compatible one with one
 * more field: without the writer's schema its bytes cannot be resolved), or by another record
 * type. No registry is consulted, so such a record cannot be read here; it is a dead letter (or a
 * counted skip) that names the fingerprint, and reading resumes once the writer's schema is added
 * to {@code schema-history/}.
 */
public final class UnknownSchemaException extends SerializationException {

  private final long fingerprint;

  public UnknownSchemaException(String message, long fingerprint, Throwable cause) {
    super(message, cause);
    this.fingerprint = fingerprint;
  }

  /** The CRC-64-AVRO fingerprint the record carries (its bytes 2..9, little-endian). */
  public long fingerprint() {
    return fingerprint;
  }

  /** The fingerprint as 16 hex digits. */
  public String fingerprintHex() {
    return AvroSerde.hex(fingerprint);
  }
}
