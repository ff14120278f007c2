package org.alexkafka.ingest.source;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.alexkafka.ingest.IngestResult;
import org.alexkafka.ingest.Ingestor;
import org.alexkafka.schemas.Split;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /images?label=n01440764&split=train&name=photo.jpg} with the image bytes as the body.
 * Answers 201 (published, acknowledged by Kafka), 200 (duplicate), 400 (bad request), 413 (body
 * over the limit), 422 (not a usable image: also recorded on images.rejected), 503 (Kafka did not
 * take it). Nothing is written anywhere but Kafka.
 */
public final class UploadServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(UploadServer.class);

  private final HttpServer server;
  private final ExecutorService workers;
  private final Ingestor ingestor;
  private final long maxBytes;
  private final Split defaultSplit;

  public UploadServer(int port, Ingestor ingestor, long maxBytes, Split defaultSplit, int threads) throws IOException {
    this.ingestor = ingestor;
    this.maxBytes = maxBytes;
    this.defaultSplit = defaultSplit;
    this.server = HttpServer.create(new InetSocketAddress(port), 0);
    this.workers = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "ingest-http");
      t.setDaemon(true);
      return t;
    });
    server.setExecutor(workers);
    server.createContext("/", this::handle);
  }

  public void start() {
    server.start();
    log.info("upload endpoint: POST http://localhost:{}/images?label=<class-id>&split=train|val (max {} bytes)", port(), maxBytes);
  }

  public int port() {
    return server.getAddress().getPort();
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      if (!ex.getRequestURI().getPath().equals("/images")) {
        respond(ex, 404, error("not found: use POST /images?label=<class-id>&split=train|val"));
        return;
      }
      if (!ex.getRequestMethod().equals("POST")) {
        ex.getResponseHeaders().add("Allow", "POST");
        respond(ex, 405, error("method " + ex.getRequestMethod() + " not allowed: use POST"));
        return;
      }
      Map<String, String> q = query(ex.getRequestURI().getRawQuery());
      String label = q.get("label");
      if (label == null || label.isBlank()) {
        respond(ex, 400, error("missing query parameter 'label' (the class id, e.g. n01440764)"));
        return;
      }
      Split split = defaultSplit;
      if (q.containsKey("split")) {
        var parsed = ImageNetLayout.splitFolder(q.get("split"));
        if (parsed.isEmpty()) {
          respond(ex, 400, error("split must be 'train' or 'val', got '" + q.get("split") + "'"));
          return;
        }
        split = parsed.get();
      }
      String declared = ex.getRequestHeaders().getFirst("Content-Length");
      if (declared != null && parseLong(declared) > maxBytes) {
        respond(ex, 413, error("body of " + declared + " bytes is over the limit of " + maxBytes + " bytes"));
        return;
      }
      InputStream in = ex.getRequestBody(); // closed with the exchange
      byte[] body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
      if (body.length > maxBytes) {
        respond(ex, 413, error("body is over the limit of " + maxBytes + " bytes"));
        return;
      }
      String name = q.getOrDefault("name", "");
      String source = "upload:" + (name.isBlank() ? ex.getRemoteAddress().getAddress().getHostAddress() : name);
      IngestResult result = ingestor.ingest(body, label, split, source);
      switch (result.status()) {
        case DUPLICATE -> respond(ex, 200, json("duplicate", result.id(), null, "already published"));
        case REJECTED -> respond(ex, 422, json("rejected", result.id(), result.reason().code(), result.detail()));
        case PUBLISHED -> {
          try {
            result.acked().get(60, TimeUnit.SECONDS);
            respond(ex, 201, json("published", result.id(), null, null));
          } catch (TimeoutException e) {
            respond(ex, 503, json("pending", result.id(), null, "Kafka has not acknowledged the image within 60 s; it is still being retried"));
          } catch (Exception e) {
            respond(ex, 503, json("failed", result.id(), "publish-failed", "Kafka did not take the image: " + e.getMessage()));
          }
        }
        default -> throw new IllegalStateException();
      }
    } catch (RuntimeException e) {
      log.error("upload failed", e);
    }
  }

  /** Up to 1 GiB of an unread body is read and dropped; beyond that the connection is cut. */
  private static void discardBody(HttpExchange ex) throws IOException {
    InputStream in = ex.getRequestBody();
    long dropped = 0;
    byte[] buf = new byte[64 * 1024];
    int n;
    while (dropped < (1L << 30) && (n = in.read(buf)) > 0) {
      dropped += n;
    }
  }

  private static long parseLong(String s) {
    try {
      return Long.parseLong(s.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> out = new HashMap<>();
    if (raw == null) {
      return out;
    }
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
      String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      out.put(k, v);
    }
    return out;
  }

  private static String error(String message) {
    return "{\"error\":" + quote(message) + "}";
  }

  private static String json(String status, String id, String reason, String detail) {
    StringBuilder sb = new StringBuilder("{\"status\":").append(quote(status));
    if (id != null) {
      sb.append(",\"id\":").append(quote(id));
    }
    if (reason != null) {
      sb.append(",\"reason\":").append(quote(reason));
    }
    if (detail != null) {
      sb.append(",\"detail\":").append(quote(detail));
    }
    return sb.append('}').toString();
  }

  private static String quote(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }

  private static void respond(HttpExchange ex, int code, String json) throws IOException {
    discardBody(ex); // whatever the client still sends is read and dropped, so it sees the answer
    byte[] bytes = (json + "\n").getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
    ex.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(1);
    workers.shutdownNow();
  }
}
