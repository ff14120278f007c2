package org.alexkafka.ingest.source.http;

import java.io.IOException;
import java.io.InputStream;

/** The decoded data of a {@code Transfer-Encoding: chunked} body; trailers are read and dropped. */
final class ChunkedInput extends InputStream {

  private static final int MAX_SIZE_LINE = 1024;

  private final InputStream in;
  private long left; // bytes left in the current chunk
  private boolean done;

  ChunkedInput(InputStream in) {
    this.in = in;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] buf, int off, int len) throws IOException {
    if (done) {
      return -1;
    }
    if (left == 0) {
      left = nextChunkSize();
      if (left == 0) {
        while (!line().isEmpty()) {
          // trailer fields: not used
        }
        done = true;
        return -1;
      }
    }
    int n = in.read(buf, off, (int) Math.min(len, left));
    if (n < 0) {
      throw new MalformedBody("connection closed inside a chunk");
    }
    left -= n;
    if (left == 0 && !line().isEmpty()) {
      throw new MalformedBody("chunk not followed by CRLF");
    }
    return n;
  }

  private long nextChunkSize() throws IOException {
    String line = line();
    int semi = line.indexOf(';'); // chunk extensions: not used
    String hex = (semi < 0 ? line : line.substring(0, semi)).strip();
    if (!hex.matches("[0-9A-Fa-f]{1,15}")) {
      throw new MalformedBody("malformed chunk size '" + hex + "'");
    }
    return Long.parseLong(hex, 16);
  }

  private String line() throws IOException {
    StringBuilder sb = new StringBuilder();
    int b;
    while ((b = in.read()) != '\n') {
      if (b < 0) {
        throw new MalformedBody("connection closed inside the chunked framing");
      }
      if (sb.length() >= MAX_SIZE_LINE) {
        throw new MalformedBody("chunk header over " + MAX_SIZE_LINE + " bytes");
      }
      if (b != '\r') {
        sb.append((char) b);
      }
    }
    return sb.toString();
  }

  /** The body's framing is broken: answered 400. */
  static final class MalformedBody extends IOException {
    MalformedBody(String message) {
      super(message);
    }
  }
}
