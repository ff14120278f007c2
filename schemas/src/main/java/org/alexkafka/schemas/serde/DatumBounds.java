package org.alexkafka.schemas.serde;

import java.util.List;
import org.apache.avro.Schema;

/**
 * Walks an Avro binary datum against its writer schema without decoding it, checking that every
 * length, count and index fits the bytes there are. Avro itself allocates a {@code bytes} field,
 * a string or an array at the size the record claims before it reads it, so a few dozen hostile
 * bytes claiming a 2 GB pixel field would end in an {@link OutOfMemoryError} that no handler
 * catches; this check turns them into a clear error first. It also names where a truncated record
 * ends. Trailing bytes after the datum are accepted, as Avro accepts them.
 */
final class DatumBounds {

  private final byte[] bytes;
  /** Where the record starts in {@code bytes} (positions in messages count from there) and ends. */
  private final int start;
  private final int end;
  private int pos;

  private DatumBounds(byte[] bytes, int start, int from, int end) {
    this.bytes = bytes;
    this.start = start;
    this.pos = from;
    this.end = end;
  }

  /**
   * Null when the datum of the record in {@code bytes[start, end)} (a whole array, or a value inside
   * a fetched batch), beginning at {@code start + from}, fits; otherwise what does not fit, and where.
   */
  static String problem(Schema writer, byte[] bytes, int start, int from, int end) {
    DatumBounds d = new DatumBounds(bytes, start, start + from, end);
    try {
      d.walk(writer, writer.getName());
      return null;
    } catch (OutOfBounds e) {
      return e.getMessage();
    }
  }

  private static final class OutOfBounds extends Exception {
    OutOfBounds(String message) {
      super(message, null, false, false);
    }
  }

  private int remaining() {
    return end - pos;
  }

  /** The position in the record, for messages. */
  private int at() {
    return pos - start;
  }

  private void walk(Schema s, String path) throws OutOfBounds {
    switch (s.getType()) {
      case NULL -> { }
      case BOOLEAN -> skip(1, path);
      case INT, LONG -> readLong(path);
      case FLOAT -> skip(4, path);
      case DOUBLE -> skip(8, path);
      case STRING, BYTES -> skip(readLong(path), path);
      case FIXED -> skip(s.getFixedSize(), path);
      case ENUM -> index(readLong(path), s.getEnumSymbols().size(), path);
      case UNION -> {
        List<Schema> types = s.getTypes();
        walk(types.get(index(readLong(path), types.size(), path)), path);
      }
      case RECORD -> {
        for (Schema.Field f : s.getFields()) {
          walk(f.schema(), path + "." + f.name());
        }
      }
      case ARRAY -> blocks(path, () -> walk(s.getElementType(), path + "[]"));
      case MAP -> blocks(path, () -> {
        skip(readLong(path), path + " key");
        walk(s.getValueType(), path + "{}");
      });
      default -> throw new OutOfBounds(path + ": unsupported type " + s.getType());
    }
  }

  private interface Item {
    void walk() throws OutOfBounds;
  }

  private void blocks(String path, Item item) throws OutOfBounds {
    long count;
    while ((count = readLong(path)) != 0) {
      if (count < 0) {
        count = -count;
        readLong(path); // the block's size in bytes
      }
      // every item of our schemas takes at least one byte: a count beyond the bytes left is a lie
      if (count < 0 || count > remaining()) {
        throw new OutOfBounds(path + ": " + count + " items claimed at byte " + at() + " but only " + remaining()
            + " bytes remain");
      }
      for (long i = 0; i < count; i++) {
        item.walk();
      }
    }
  }

  private int index(long i, int size, String path) throws OutOfBounds {
    if (i < 0 || i >= size) {
      throw new OutOfBounds(path + ": index " + i + " outside 0.." + (size - 1) + " at byte " + at());
    }
    return (int) i;
  }

  private void skip(long n, String path) throws OutOfBounds {
    if (n < 0) {
      throw new OutOfBounds(path + ": negative length " + n + " at byte " + at());
    }
    if (n > remaining()) {
      throw new OutOfBounds(path + ": " + n + " bytes claimed at byte " + at() + " but only " + remaining()
          + " remain (truncated or corrupt)");
    }
    pos += (int) n;
  }

  /** A zig-zag varint, as Avro writes int and long. */
  private long readLong(String path) throws OutOfBounds {
    long raw = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= end) {
        throw new OutOfBounds(path + ": the record ends at byte " + at() + " inside a number (truncated)");
      }
      int b = bytes[pos++] & 0xFF;
      raw |= (long) (b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        return (raw >>> 1) ^ -(raw & 1);
      }
    }
    throw new OutOfBounds(path + ": a number longer than 10 bytes at byte " + at());
  }
}
