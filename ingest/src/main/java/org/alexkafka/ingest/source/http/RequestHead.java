package org.alexkafka.ingest.source.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The request line and headers of an HTTP/1.x request, read strictly: anything this server does not
 * need (folded headers, absolute-form targets, unusual framing) is refused rather than guessed at.
 */
public record RequestHead(String method, String path, Map<String, String> query, Map<String, List<String>> headers) {

  static final int MAX_LINE = 8 * 1024;
  static final int MAX_HEAD_BYTES = 32 * 1024;
  static final int MAX_HEADERS = 100;

  /** The first value of a header (names are case-insensitive), if present. */
  public Optional<String> header(String name) {
    List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
    return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.get(0));
  }

  List<String> headers(String name) {
    return headers.getOrDefault(name.toLowerCase(Locale.ROOT), List.of());
  }

  /** Reads up to the empty line that ends the head; empty if the client closed before sending anything. */
  static Optional<RequestHead> read(InputStream in) throws IOException, HttpError {
    int[] budget = {MAX_HEAD_BYTES};
    String requestLine = readLine(in, budget);
    if (requestLine == null) {
      return Optional.empty();
    }
    String[] parts = requestLine.split(" ", -1);
    if (parts.length != 3 || parts[0].isEmpty() || !parts[2].startsWith("HTTP/1.")) {
      throw new HttpError(400, "malformed request line");
    }
    if (!parts[1].startsWith("/")) {
      throw new HttpError(400, "request target must be a path starting with /");
    }
    Map<String, List<String>> headers = new HashMap<>();
    int count = 0;
    for (String line = readLine(in, budget); ; line = readLine(in, budget)) {
      if (line == null) {
        throw new HttpError(400, "connection closed inside the request headers");
      }
      if (line.isEmpty()) {
        break;
      }
      if (++count > MAX_HEADERS) {
        throw new HttpError(431, "more than " + MAX_HEADERS + " request headers");
      }
      int colon = line.indexOf(':');
      if (colon <= 0 || line.charAt(0) == ' ' || line.charAt(0) == '\t' || line.substring(0, colon).contains(" ")) {
        throw new HttpError(400, "malformed request header");
      }
      headers.computeIfAbsent(line.substring(0, colon).toLowerCase(Locale.ROOT), k -> new ArrayList<>())
          .add(line.substring(colon + 1).strip());
    }
    String target = parts[1];
    int q = target.indexOf('?');
    String path = q < 0 ? target : target.substring(0, q);
    Map<String, String> query = parseQuery(q < 0 ? null : target.substring(q + 1));
    return Optional.of(new RequestHead(parts[0], path, query, headers));
  }

  /** A line without its CRLF (a bare LF is accepted); null at end of stream before any byte. */
  private static String readLine(InputStream in, int[] budget) throws IOException, HttpError {
    ByteArrayOutputStream line = new ByteArrayOutputStream(128);
    int b;
    while ((b = in.read()) >= 0) {
      if (--budget[0] < 0) {
        throw new HttpError(431, "request headers over " + MAX_HEAD_BYTES + " bytes");
      }
      if (b == '\n') {
        byte[] bytes = line.toByteArray();
        int len = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        return new String(bytes, 0, len, StandardCharsets.ISO_8859_1);
      }
      if (line.size() >= MAX_LINE) {
        throw new HttpError(431, "request line or header over " + MAX_LINE + " bytes");
      }
      line.write(b);
    }
    if (line.size() == 0) {
      return null;
    }
    throw new HttpError(400, "connection closed inside the request headers");
  }

  private static Map<String, String> parseQuery(String raw) throws HttpError {
    Map<String, String> out = new HashMap<>();
    if (raw == null || raw.isEmpty()) {
      return out;
    }
    try {
      for (String pair : raw.split("&")) {
        int eq = pair.indexOf('=');
        String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
        String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
        out.put(k, v);
      }
    } catch (IllegalArgumentException e) {
      throw new HttpError(400, "malformed query string: " + e.getMessage());
    }
    return out;
  }
}
