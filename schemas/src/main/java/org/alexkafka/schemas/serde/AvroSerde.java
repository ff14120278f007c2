package org.alexkafka.schemas.serde;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.utils.Utils;

/**
 * Kafka serde for one generated Avro record type, in Avro's single-object encoding
 * (2-byte marker, 8-byte schema fingerprint, datum). Older writer schemas are resolved from
 * {@link SchemaHistory}, so no registry server is needed and schemas can evolve compatibly.
 *
 * <p>Whatever the bytes, {@link #deserialize} returns a record or throws a
 * {@link SerializationException} naming the topic: {@link UnknownSchemaException} (naming the
 * fingerprint) for a record written with a schema this reader does not know, e.g. a newer one.
 */
public final class AvroSerde<T extends SpecificRecord> implements Serde<T>, Serializer<T>, Deserializer<T> {

  private final Schema schema;
  private final BinaryMessageEncoder<T> encoder;
  private final BinaryMessageDecoder<T> decoder;
  /** The fingerprints this serde reads, current first, for the message of an unknown one. */
  private final String known;
  /** Writer schemas by fingerprint: the current one and its history. */
  private final java.util.Map<Long, Schema> writers = new java.util.HashMap<>();

  public AvroSerde(Schema schema) {
    this.schema = schema;
    SpecificData model = SpecificData.getForSchema(schema);
    this.encoder = new BinaryMessageEncoder<>(model, schema);
    this.decoder = new BinaryMessageDecoder<>(model, schema);
    StringBuilder fingerprints = new StringBuilder(hex(SchemaNormalization.parsingFingerprint64(schema)) + " (current)");
    writers.put(SchemaNormalization.parsingFingerprint64(schema), schema);
    for (Schema older : SchemaHistory.olderVersionsOf(schema.getFullName())) {
      decoder.addSchema(older);
      writers.put(SchemaNormalization.parsingFingerprint64(older), older);
      fingerprints.append(", ").append(hex(SchemaNormalization.parsingFingerprint64(older)));
    }
    this.known = fingerprints.toString();
  }

  static String hex(long fingerprint) {
    return String.format("%016x", fingerprint);
  }

  public Schema schema() {
    return schema;
  }

  @Override
  public byte[] serialize(String topic, T data) {
    if (data == null) {
      return null;
    }
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
      encoder.encode(data, out);
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public T deserialize(String topic, byte[] bytes) {
    return bytes == null ? null : deserialize(topic, bytes, 0, bytes.length, null);
  }

  /**
   * The consumer's path: the value as a view of the fetched batch, decoded in place. Kafka's default
   * copies every value into its own array first, which for a 150 KB sample is a second copy and a
   * second allocation per record.
   */
  @Override
  public T deserialize(String topic, Headers headers, ByteBuffer data) {
    return deserialize(topic, data, null);
  }

  /**
   * The same, decoding into {@code reuse}: Avro fills its fields in place, a bytes field into the
   * buffer already there when that is large enough. Returns {@code reuse} (or a new record when
   * it is null), or null for a tombstone.
   */
  public T deserialize(String topic, ByteBuffer data, T reuse) {
    if (data == null) {
      return null; // a tombstone on a compacted topic
    }
    if (!data.hasArray()) {
      byte[] copy = Utils.toArray(data); // a direct buffer: Kafka's own copy, the view left as it was
      return deserialize(topic, copy, 0, copy.length, reuse);
    }
    return deserialize(topic, data.array(), data.arrayOffset() + data.position(), data.remaining(), reuse);
  }

  /** The record in {@code bytes[offset, offset + length)}, into {@code reuse} when not null. */
  private T deserialize(String topic, byte[] bytes, int offset, int length, T reuse) {
    String notKnown = "Topic '" + topic + "': " + length + " bytes are not a known " + schema.getName()
        + " record in Avro single-object encoding";
    boolean marker = length >= 2 && bytes[offset] == (byte) 0xC3 && bytes[offset + 1] == (byte) 0x01;
    if (length < HEADER || !marker) {
      throw new SerializationException(notKnown + " (" + (marker
          ? "truncated: the header alone takes " + HEADER + " bytes"
          : "no C3 01 marker: they start " + start(bytes, offset, length)) + ")");
    }
    long fingerprint = 0;
    for (int i = HEADER - 1; i >= 2; i--) {
      fingerprint = (fingerprint << 8) | (bytes[offset + i] & 0xFFL);
    }
    Schema writer = writers.get(fingerprint);
    if (writer == null) {
      throw unknownSchema(notKnown, fingerprint, null);
    }
    String outOfBounds = DatumBounds.problem(writer, bytes, offset, HEADER, offset + length);
    if (outOfBounds != null) {
      throw new SerializationException(notKnown + " (schema " + hex(fingerprint) + ", " + outOfBounds + ")");
    }
    try {
      return decoder.decode(ByteBuffer.wrap(bytes, offset, length), reuse);
    } catch (MissingSchemaException e) {
      throw unknownSchema(notKnown, fingerprint, e);
    } catch (IOException | RuntimeException e) {
      // truncated or corrupt datum (EOFException, AvroRuntimeException, a negative or huge length,
      // an enum or union index out of range, ...)
      throw new SerializationException(notKnown + " (schema " + hex(fingerprint) + ", "
          + e.getClass().getSimpleName() + ": " + e.getMessage() + ")", e);
    }
  }

  private UnknownSchemaException unknownSchema(String notKnown, long fingerprint, Throwable cause) {
    return new UnknownSchemaException(notKnown + ": written with an unknown schema, fingerprint " + hex(fingerprint)
        + " (a newer writer, or another record type; this reader knows " + known
        + "; add the writer's schema to schema-history/ to read it)", fingerprint, cause);
  }

  /** Marker (2 bytes) and fingerprint (8 bytes) of the single-object encoding. */
  private static final int HEADER = 10;

  private static String start(byte[] bytes, int offset, int length) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < Math.min(length, 4); i++) {
      out.append(String.format("%02x ", bytes[offset + i] & 0xFF));
    }
    return length == 0 ? "with nothing (0 bytes)" : out.toString().strip();
  }

  @Override
  public Serializer<T> serializer() {
    return this;
  }

  @Override
  public Deserializer<T> deserializer() {
    return this;
  }

  @Override
  public void configure(java.util.Map<String, ?> configs, boolean isKey) {
    // nothing to configure: the schema is fixed by the record type
  }

  @Override
  public void close() {
    // nothing held
  }
}
