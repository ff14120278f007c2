package org.alexkafka.ingest.source.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** A status, a few headers and a JSON body; every connection carries one response, then closes. */
public record Response(int status, Map<String, String> headers, byte[] body) {

  public Response {
    headers = Map.copyOf(headers);
  }

  public static Response json(int status, byte[] body) {
    return new Response(status, Map.of(), body);
  }

  public Response withHeader(String name, String value) {
    Map<String, String> more = new LinkedHashMap<>(headers);
    more.put(name, value);
    return new Response(status, more, body);
  }

  void writeTo(OutputStream out) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream(256);
    head.writeBytes(("HTTP/1.1 " + status + " " + reason(status) + "\r\n").getBytes(StandardCharsets.US_ASCII));
    Map<String, String> all = new LinkedHashMap<>(headers);
    all.put("Content-Type", "application/json; charset=utf-8");
    all.put("Content-Length", Integer.toString(body.length));
    all.put("Connection", "close");
    all.forEach((k, v) -> head.writeBytes((k + ": " + v + "\r\n").getBytes(StandardCharsets.ISO_8859_1)));
    head.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
    out.write(head.toByteArray());
    out.write(body);
    out.flush();
  }

  static String reason(int status) {
    return switch (status) {
      case 200 -> "OK";
      case 201 -> "Created";
      case 400 -> "Bad Request";
      case 401 -> "Unauthorized";
      case 404 -> "Not Found";
      case 405 -> "Method Not Allowed";
      case 408 -> "Request Timeout";
      case 409 -> "Conflict";
      case 413 -> "Content Too Large";
      case 422 -> "Unprocessable Content";
      case 431 -> "Request Header Fields Too Large";
      case 500 -> "Internal Server Error";
      case 501 -> "Not Implemented";
      case 503 -> "Service Unavailable";
      default -> "Status " + status;
    };
  }
}
