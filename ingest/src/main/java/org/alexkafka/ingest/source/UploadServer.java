package org.alexkafka.ingest.source;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.alexkafka.ingest.IngestResult;
import org.alexkafka.ingest.Ingestor;
import org.alexkafka.ingest.RejectReason;
import org.alexkafka.ingest.source.http.BoundedHttpServer;
import org.alexkafka.ingest.source.http.HttpError;
import org.alexkafka.ingest.source.http.Request;
import org.alexkafka.ingest.source.http.Response;
import org.alexkafka.schemas.Split;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /images?label=n01440764&split=train&name=photo.jpg} with the image bytes as the body,
 * and {@code Authorization: Bearer <token>} when a token is set. Listens on 127.0.0.1 unless told
 * otherwise. Answers, as JSON:
 * <ul>
 *   <li>201 published (acknowledged by Kafka); 200 duplicate (the same picture under the same class)
 *   <li>400 bad request: no or malformed label (see {@code ClassIds}), bad split, malformed HTTP
 *   <li>401 no or wrong token (with {@code WWW-Authenticate: Bearer})
 *   <li>404 other path; 405 other method
 *   <li>408 the client stopped sending its headers or body for longer than the read timeout
 *   <li>409 the picture is published already under another class: the answer names both, the
 *       first class is kept; recorded on images.rejected as label-conflict
 *   <li>413 body over the limit
 *   <li>422 unknown class (not in the synsets file, or new classes refused with
 *       {@code --http-new-classes=false}), or not a usable image; both recorded on images.rejected
 *   <li>431 headers too large; 501 a transfer coding other than chunked
 *   <li>500 a failure inside the service
 *   <li>503 Kafka did not take it, the decoders stayed busy, or too many connections (Retry-After)
 * </ul>
 * Every request is checked on its head (token, path, label, declared size) before its body is read;
 * each connection carries one request. Nothing is written anywhere but Kafka.
 */
public final class UploadServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(UploadServer.class);
  private static final ObjectMapper JSON = new ObjectMapper().setDefaultPropertyInclusion(JsonInclude.Include.NON_NULL);
  private static final long ACK_WAIT_SECONDS = 60;
  /** How long an upload waits for a decoder before it is answered 503. */
  private static final long DECODER_WAIT_SECONDS = 60;

  /** The JSON body of every answer about an upload; absent fields are left out. */
  record Answer(String status, String id, String label, String keptLabel, String reason, String detail) {}

  /** The JSON body of a refused request. */
  record Problem(String error) {}

  private final BoundedHttpServer server;
  private final UploadSettings settings;
  private final Optional<BearerToken> token;
  private final Ingestor ingestor;
  private final UploadLabels labels;
  private final long maxBytes;
  private final Split defaultSplit;
  /**
   * Connections are many (most of them wait on their clients); decoding a picture takes a core and,
   * for a large one, hundreds of MB, so only this many uploads decode at once.
   */
  private final Semaphore decoders;

  public UploadServer(UploadSettings settings, int port, Ingestor ingestor, UploadLabels labels, long maxBytes,
      Split defaultSplit, int decodeThreads) throws IOException {
    this.settings = settings;
    this.token = BearerToken.of(settings.token());
    this.ingestor = ingestor;
    this.labels = labels;
    this.maxBytes = maxBytes;
    this.defaultSplit = defaultSplit;
    this.decoders = new Semaphore(decodeThreads, true);
    InetSocketAddress address = new InetSocketAddress(InetAddress.getByName(settings.bindAddress()), port);
    this.server = new BoundedHttpServer(address,
        new BoundedHttpServer.Limits(settings.readTimeout(), settings.maxConnections(), maxBytes),
        this::handle, (status, message) -> Response.json(status, json(new Problem(message))), "ingest-http");
  }

  public void start() {
    server.start();
    InetSocketAddress at = server.address();
    log.info("upload endpoint: POST http://{}:{}/images?label=<class-id>&split=train|val (max {} bytes, {}token, new classes {})",
        at.getAddress().getHostAddress(), at.getPort(), maxBytes, token.isPresent() ? "" : "no ",
        settings.allowNewClasses() ? "allowed" : "refused");
    if (!at.getAddress().isLoopbackAddress() && token.isEmpty()) {
      log.warn("the upload endpoint listens on {} without a token: anyone who reaches the port can publish images"
          + " (--http-token-file / INGEST_HTTP_TOKEN)", at.getAddress().getHostAddress());
    }
  }

  public int port() {
    return server.address().getPort();
  }

  /** The address the endpoint listens on. */
  public InetSocketAddress address() {
    return server.address();
  }

  private Response handle(Request request) throws IOException, HttpError {
    if (token.isPresent() && !token.get().acceptsHeader(request.head().header("Authorization").orElse(null))) {
      boolean given = request.head().header("Authorization").isPresent();
      return problem(401, given ? "wrong bearer token" : "this endpoint needs Authorization: Bearer <token>")
          .withHeader("WWW-Authenticate", given ? "Bearer realm=\"ingest\", error=\"invalid_token\"" : "Bearer realm=\"ingest\"");
    }
    if (!request.path().equals("/images")) {
      return problem(404, "not found: use POST /images?label=<class-id>&split=train|val");
    }
    if (!request.method().equals("POST")) {
      return problem(405, "method " + request.method() + " not allowed: use POST").withHeader("Allow", "POST");
    }
    Map<String, String> q = request.head().query();
    String label = q.get("label");
    if (label == null || label.isBlank()) {
      return problem(400, "missing query parameter 'label' (the class id, e.g. n01440764)");
    }
    Split split = defaultSplit;
    if (q.containsKey("split")) {
      var parsed = ImageNetLayout.splitFolder(q.get("split"));
      if (parsed.isEmpty()) {
        return problem(400, "split must be 'train' or 'val', got '" + shorten(q.get("split")) + "'");
      }
      split = parsed.get();
    }
    String name = q.getOrDefault("name", "");
    String source = "upload:" + (name.isBlank() ? request.remoteAddress().getHostAddress() : name);
    Optional<UploadLabels.Refusal> refusal = labels.refusal(label);
    if (refusal.isPresent() && refusal.get().malformed()) {
      log.info("refused upload {}: {}", source, refusal.get().message());
      return problem(400, refusal.get().message());
    }
    if (refusal.isPresent()) {
      // 422, not 409: the request names a class this service does not have; nothing in the
      // service's state is in the way that the client could resolve (409 is kept for a picture
      // already published under another class). Same answer as for a class a synsets file lacks.
      ingestor.rejectUnread(source, RejectReason.UNKNOWN_LABEL, refusal.get().message());
      return answer(422, new Answer("rejected", null, label, null, RejectReason.UNKNOWN_LABEL.code(), refusal.get().message()));
    }
    byte[] body = request.readBody(maxBytes);
    return ingest(body, label, split, source);
  }

  private Response ingest(byte[] body, String label, Split split, String source) {
    IngestResult result;
    try {
      if (!decoders.tryAcquire(DECODER_WAIT_SECONDS, TimeUnit.SECONDS)) {
        return problem(503, "all decoders stayed busy for " + DECODER_WAIT_SECONDS + " s; try again later")
            .withHeader("Retry-After", "5");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return problem(503, "the service is stopping");
    }
    try {
      result = ingestor.ingest(body, label, split, source, Ingestor.EarlierLabels.READ_BACK);
    } finally {
      decoders.release();
    }
    return switch (result.status()) {
      case DUPLICATE -> answer(200, new Answer("duplicate", result.id(), label, null, null, "already published"));
      case REJECTED -> rejected(result, label);
      case PUBLISHED -> published(result, label);
    };
  }

  private static Response rejected(IngestResult result, String label) {
    RejectReason reason = result.reason();
    int status = switch (reason) {
      case LABEL_CONFLICT -> 409;
      case PUBLISH_FAILED -> 503;
      case INTERNAL_ERROR -> 500;
      default -> 422;
    };
    String word = reason == RejectReason.LABEL_CONFLICT ? "conflict" : reason == RejectReason.PUBLISH_FAILED ? "failed" : "rejected";
    return answer(status, new Answer(word, result.id(), label, result.keptLabel(), reason.code(), result.detail()));
  }

  private static Response published(IngestResult result, String label) {
    try {
      result.acked().get(ACK_WAIT_SECONDS, TimeUnit.SECONDS);
      return answer(201, new Answer("published", result.id(), label, null, null, null));
    } catch (TimeoutException e) {
      return answer(503, new Answer("pending", result.id(), label, null, null,
          "Kafka has not acknowledged the image within " + ACK_WAIT_SECONDS + " s; it is still being retried"));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return answer(503, new Answer("pending", result.id(), label, null, null, "the service is stopping"));
    } catch (Exception e) {
      return answer(503, new Answer("failed", result.id(), label, null, RejectReason.PUBLISH_FAILED.code(),
          "Kafka did not take the image: " + e.getMessage()));
    }
  }

  private static String shorten(String s) {
    return s.length() <= 40 ? s : s.substring(0, 40) + "...";
  }

  private static Response problem(int status, String message) {
    return Response.json(status, json(new Problem(message)));
  }

  private static Response answer(int status, Answer answer) {
    return Response.json(status, json(answer));
  }

  private static byte[] json(Object body) {
    try {
      byte[] bytes = JSON.writeValueAsBytes(body);
      byte[] line = new byte[bytes.length + 1];
      System.arraycopy(bytes, 0, line, 0, bytes.length);
      line[bytes.length] = '\n';
      return line;
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write " + body + " as JSON", e);
    }
  }

  @Override
  public void close() {
    server.close();
  }
}
