package org.alexkafka.augment.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import org.alexkafka.schemas.Image;
import org.alexkafka.schemas.serde.RecordSerdes;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;

/** The bytes of hostile records for the images topic. */
public final class HostileRecords {

  private HostileRecords() {}

  public static byte[] garbage() {
    return "\u0000\u00ffdefinitely not an avro image\r\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
  }

  /** The first half of a real record. */
  public static byte[] truncated(Image image) {
    byte[] whole = RecordSerdes.image().serialize("images", image);
    return Arrays.copyOf(whole, whole.length / 2);
  }

  /** A real record whose fingerprint has one byte flipped: a schema nobody knows. */
  public static byte[] unknownFingerprint(Image image) {
    byte[] bytes = RecordSerdes.image().serialize("images", image);
    bytes[5] ^= 0x3C;
    return bytes;
  }

  public static long fingerprintOf(byte[] record) {
    return java.nio.ByteBuffer.wrap(record, 2, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
  }

  /** The image written by a newer producer whose Image schema has one more field (with a default). */
  public static byte[] fromTheFuture(Image image) {
    String json = Image.getClassSchema().toString().replace("{\"name\":\"pixels\"",
        "{\"name\":\"exposure\",\"type\":\"float\",\"default\":0.0},{\"name\":\"pixels\"");
    Schema future = new Schema.Parser().parse(json);
    GenericRecord r = new GenericData.Record(future);
    for (Schema.Field f : Image.getClassSchema().getFields()) {
      r.put(f.name(), image.get(f.name()));
    }
    r.put("split", new GenericData.EnumSymbol(future.getField("split").schema(), image.getSplit().name()));
    r.put("ingestedAt", image.getIngestedAt().toEpochMilli());
    r.put("exposure", 1.5f);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      new BinaryMessageEncoder<GenericRecord>(GenericData.get(), future).encode(r, out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** A record of a few dozen bytes that claims a pixel field of 2 GB. */
  public static byte[] claimingHugePixels(Image image) {
    Image tiny = Image.newBuilder(image).setPixels(java.nio.ByteBuffer.wrap(new byte[3])).build();
    byte[] whole = RecordSerdes.image().serialize("images", tiny);
    long millis = image.getIngestedAt().toEpochMilli();
    int tail = 1;
    for (long z = (millis << 1) ^ (millis >> 63); (z & ~0x7FL) != 0; z >>>= 7) {
      tail++;
    }
    int at = whole.length - tail - 3 - 1; // the pixels' length (1 byte), then 3 pixel bytes and ingestedAt
    if (whole[at] != 6) {
      throw new IllegalStateException("unexpected layout: byte " + at + " is " + whole[at]);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(whole, 0, at);
    long zigzag = 2_000_000_000L << 1;
    while ((zigzag & ~0x7FL) != 0) {
      out.write((int) ((zigzag & 0x7F) | 0x80));
      zigzag >>>= 7;
    }
    out.write((int) zigzag);
    return out.toByteArray();
  }
}
