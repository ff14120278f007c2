package org.alexkafka.trainer.checkpoint;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy's {@code .npy} format, version 1.0, for the three element types the learning bench
 * exports: {@code |u1} (bytes), {@code <i4} (little-endian int32) and {@code <f4} (float32), C order.
 * {@code numpy.load} reads what {@link #write} writes; {@link #read} is for tests and tools.
 */
public final class Npy {

  public static final String UINT8 = "|u1";
  public static final String INT32 = "<i4";
  public static final String FLOAT32 = "<f4";

  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([^']+)'");
  private static final Pattern ORDER = Pattern.compile("'fortran_order':\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

  /** An array: its element type, shape and raw little-endian data. */
  public record Array(String descr, long[] shape, byte[] data) {

    public Array {
      long n = Npy.elements(shape);
      if (n * itemSize(descr) != data.length) {
        throw new IllegalArgumentException(data.length + " bytes do not hold " + Arrays.toString(shape) + " of " + descr);
      }
    }

    public long elements() {
      return Npy.elements(shape);
    }

    public int[] ints() {
      int[] out = new int[data.length / 4];
      ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(out);
      return out;
    }

    public float[] floats() {
      float[] out = new float[data.length / 4];
      ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
      return out;
    }
  }

  private Npy() {
  }

  public static Array ofBytes(byte[] data, long... shape) {
    return new Array(UINT8, shape, data);
  }

  public static Array ofInts(int[] values, long... shape) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asIntBuffer().put(values);
    return new Array(INT32, shape, b.array());
  }

  public static Array ofFloats(float[] values, long... shape) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    return new Array(FLOAT32, shape, b.array());
  }

  /** The header (magic, version, length, dict padded so the data starts at a multiple of 64). */
  static byte[] header(String descr, long[] shape) {
    StringBuilder dims = new StringBuilder();
    for (long d : shape) {
      dims.append(d).append(", ");
    }
    String tuple = shape.length == 1 ? "(" + shape[0] + ",)" : "(" + (dims.length() == 0 ? "" : dims.substring(0, dims.length() - 2)) + ")";
    StringBuilder dict = new StringBuilder("{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + tuple + ", }");
    int preamble = MAGIC.length + 2 + 2;
    while ((preamble + dict.length() + 1) % 64 != 0) {
      dict.append(' ');
    }
    dict.append('\n');
    byte[] text = dict.toString().getBytes(StandardCharsets.ISO_8859_1);
    if (text.length > 0xFFFF) {
      throw new IllegalArgumentException("npy header too long");
    }
    ByteBuffer h = ByteBuffer.allocate(preamble + text.length).order(ByteOrder.LITTLE_ENDIAN);
    h.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) text.length).put(text);
    return h.array();
  }

  public static void write(Path file, Array a) throws IOException {
    try (OutputStream out = Files.newOutputStream(file)) {
      write(out, a);
    }
  }

  public static void write(OutputStream out, Array a) throws IOException {
    out.write(header(a.descr(), a.shape()));
    out.write(a.data());
  }

  public static Array read(Path file) throws IOException {
    return parse(Files.readAllBytes(file), file.toString());
  }

  /** Reads the bytes of one .npy file ({@code file} names it in messages). */
  public static Array parse(byte[] all, String file) throws IOException {
    if (all.length < 10 || !Arrays.equals(Arrays.copyOf(all, MAGIC.length), MAGIC)) {
      throw new IOException(file + " is not an .npy file");
    }
    if (all[6] != 1) {
      throw new IOException(file + ": npy version " + all[6] + " (only 1.0 is read)");
    }
    int len = ByteBuffer.wrap(all, 8, 2).order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xFFFF;
    String dict = new String(all, 10, len, StandardCharsets.ISO_8859_1);
    Matcher d = DESCR.matcher(dict);
    Matcher o = ORDER.matcher(dict);
    Matcher s = SHAPE.matcher(dict);
    if (!d.find() || !o.find() || !s.find()) {
      throw new IOException(file + ": cannot parse npy header " + dict.trim());
    }
    if (o.group(1).equals("True")) {
      throw new IOException(file + ": Fortran order is not read");
    }
    long[] shape = Arrays.stream(s.group(1).split(",")).map(String::trim).filter(x -> !x.isEmpty())
        .mapToLong(Long::parseLong).toArray();
    return new Array(d.group(1), shape, Arrays.copyOfRange(all, 10 + len, all.length));
  }

  static long elements(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  static int itemSize(String descr) {
    return switch (descr) {
      case UINT8 -> 1;
      case INT32, FLOAT32 -> 4;
      default -> throw new IllegalArgumentException("element type " + descr + " is not supported");
    };
  }
}
