package org.alexkafka.ingest.source.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;

/**
 * One request: its head, read already, and its body, read only when the handler asks for it, so a
 * request refused on its head (401, 400, 413) costs no body bytes. A client that sent
 * {@code Expect: 100-continue} is told to go on only then.
 */
public final class Request {

  private final RequestHead head;
  private final InetAddress remote;
  private final InputStream in;
  private final ReadDeadline deadline;
  private final OutputStream out;
  private final OptionalLong contentLength;
  private final boolean chunked;
  private boolean bodyStarted;
  private boolean bodyRead;

  Request(RequestHead head, InetAddress remote, InputStream in, ReadDeadline deadline, OutputStream out) throws HttpError {
    this.head = head;
    this.remote = remote;
    this.in = in;
    this.deadline = deadline;
    this.out = out;
    List<String> encodings = head.headers("Transfer-Encoding");
    List<String> lengths = head.headers("Content-Length");
    if (!encodings.isEmpty()) {
      // Both framings at once is how requests are smuggled past proxies: refuse it.
      if (!lengths.isEmpty()) {
        throw new HttpError(400, "both Transfer-Encoding and Content-Length");
      }
      if (encodings.size() != 1 || !encodings.get(0).toLowerCase(Locale.ROOT).equals("chunked")) {
        throw new HttpError(501, "only Transfer-Encoding: chunked is supported, got " + String.join(", ", encodings));
      }
      chunked = true;
      contentLength = OptionalLong.empty();
    } else if (!lengths.isEmpty()) {
      chunked = false;
      String value = lengths.get(0);
      if (lengths.stream().anyMatch(v -> !v.equals(value)) || !value.matches("[0-9]{1,18}")) {
        throw new HttpError(400, "malformed Content-Length");
      }
      contentLength = OptionalLong.of(Long.parseLong(value));
    } else {
      chunked = false;
      contentLength = OptionalLong.of(0);
    }
  }

  public String method() {
    return head.method();
  }

  public String path() {
    return head.path();
  }

  public RequestHead head() {
    return head;
  }

  public InetAddress remoteAddress() {
    return remote;
  }

  /** The declared body length; empty for a chunked body. */
  public OptionalLong contentLength() {
    return contentLength;
  }

  /**
   * The whole body, refused with 413 beyond {@code maxBytes} and with 408 when the client is too slow
   * (see {@link ReadDeadline}). Memory grows with what arrives, not with what is declared.
   */
  public byte[] readBody(long maxBytes) throws IOException, HttpError {
    if (contentLength.isPresent() && contentLength.getAsLong() > maxBytes) {
      throw new HttpError(413, "body of " + contentLength.getAsLong() + " bytes is over the limit of " + maxBytes + " bytes");
    }
    InputStream body = startBody();
    int limit = (int) Math.min(Integer.MAX_VALUE - 8, chunked ? maxBytes + 1 : contentLength.getAsLong());
    byte[] bytes;
    try {
      bytes = body.readNBytes(limit);
    } catch (ChunkedInput.MalformedBody e) {
      throw new HttpError(400, e.getMessage());
    }
    if (bytes.length > maxBytes) {
      throw new HttpError(413, "body is over the limit of " + maxBytes + " bytes");
    }
    if (!chunked && bytes.length < contentLength.getAsLong()) {
      throw new HttpError(400, "connection closed after " + bytes.length + " of " + contentLength.getAsLong() + " body bytes");
    }
    bodyRead = true;
    return bytes;
  }

  /** Whether the client may still be sending body bytes nobody read (a request refused on its head). */
  boolean mayHaveUnreadBody() {
    return !bodyRead && (chunked || contentLength.getAsLong() > 0);
  }

  private InputStream startBody() throws IOException {
    if (bodyStarted) {
      throw new IllegalStateException("the body is read once");
    }
    bodyStarted = true;
    if (head.header("Expect").map(v -> v.equalsIgnoreCase("100-continue")).orElse(false)) {
      out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
    }
    deadline.startBody();
    return chunked ? new ChunkedInput(in) : in;
  }
}
