package org.alexkafka.ingest.source;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.alexkafka.ingest.IngestResult;
import org.alexkafka.ingest.Ingestor;
import org.alexkafka.schemas.RejectReason;
import org.alexkafka.schemas.Split;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.ScheduledExecutorScheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /images?label=n01440764&split=train&name=photo.jpg} with the image bytes as the body,
 * and {@code Authorization: Bearer <token>} when a token is set. Listens on 127.0.0.1 unless told
 * otherwise. Answers, as JSON:
 * <ul>
 *   <li>201 published (acknowledged by Kafka); 200 duplicate (the same picture under the same class)
 *   <li>400 bad request: no or malformed label (see {@code ClassIds}), bad split, malformed HTTP
 *       (among them both Content-Length and Transfer-Encoding, refused by Jetty's parser)
 *   <li>401 no or wrong token (with {@code WWW-Authenticate: Bearer})
 *   <li>404 other path; 405 other method
 *   <li>408 the client stopped sending its body for longer than the read timeout, or sent it too
 *       slowly (see {@link UploadBody}); a client whose headers do not arrive whole within the read
 *       timeout is cut off without an answer
 *   <li>409 the picture is published already under another class: the answer names both, the
 *       first class is kept; recorded on images.rejected as label-conflict
 *   <li>413 body over the limit
 *   <li>422 unknown class (not in the synsets file, or new classes refused with
 *       {@code --http-new-classes=false}), or not a usable image; both recorded on images.rejected
 *   <li>431 headers too large (Jetty); 500 a failure inside the service
 *   <li>503 Kafka did not take it, the decoders stayed busy, too many connections, or the bodies
 *       held in memory at once reached their bound (--http-max-buffered-mb, by default a quarter of the heap; Retry-After)
 * </ul>
 * Every request is checked on its head (token, path, label, declared size) before its body is read;
 * each connection carries one request. Nothing is written anywhere but Kafka.
 *
 * <p>The server is Jetty's core {@link Server} (no servlets). Its protections: the connector's idle
 * timeout is the read timeout (a stalled body is answered 408, a stalled head is closed);
 * {@link UploadConnections} closes a connection whose head has not arrived whole within the read
 * timeout and answers connections beyond {@code maxConnections} 503; Jetty's
 * {@link NetworkConnectionLimit} stops accepting beyond twice that; bodies are read asynchronously
 * ({@link UploadBody}), so waiting on a client holds no thread; only {@code decodeThreads} uploads
 * decode at once.
 */
public final class UploadServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(UploadServer.class);
  private static final ObjectMapper JSON = new ObjectMapper().setDefaultPropertyInclusion(JsonInclude.Include.NON_NULL);
  private static final String JSON_TYPE = "application/json; charset=utf-8";
  private static final long ACK_WAIT_SECONDS = 60;
  /** How long an upload waits for a decoder before it is answered 503. */
  private static final long DECODER_WAIT_SECONDS = 60;
  /** The request line and headers together (Jetty's default is 8 KiB). */
  private static final int MAX_HEAD_BYTES = 32 * 1024;
  /** The kernel's queue of connections not accepted yet. */
  private static final int ACCEPT_QUEUE = 256;

  /** The JSON body of every answer about an upload; absent fields are left out. */
  record Answer(String status, String id, String label, String keptLabel, String reason, String detail) {}

  /** The JSON body of a refused request. */
  record Problem(String error) {}

  /** A status, a few headers and a JSON body. */
  private record Reply(int status, Map<String, String> headers, byte[] body) {
    Reply withHeader(String name, String value) {
      Map<String, String> more = new LinkedHashMap<>(headers);
      more.put(name, value);
      return new Reply(status, more, body);
    }

    void send(Response response, Callback callback) {
      response.setStatus(status);
      headers.forEach((name, value) -> response.getHeaders().put(name, value));
      response.getHeaders().put(HttpHeader.CONTENT_TYPE, JSON_TYPE);
      response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
      response.write(true, ByteBuffer.wrap(body), callback);
    }
  }

  private final Server server;
  private final ServerConnector connector;
  private final InetAddress bindAddress;
  private final UploadSettings settings;
  private final UploadConnections connections;
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
  /** Upload bodies are kept whole until decoded: their bytes in memory at once are bounded (a quarter of the heap). */
  private final UploadMemory memory;

  /** Binds the port now (a port in use fails here); {@link #start} starts serving. */
  public UploadServer(UploadSettings settings, int port, Ingestor ingestor, UploadLabels labels, long maxBytes,
      Split defaultSplit, int decodeThreads) throws IOException {
    this.settings = settings;
    this.token = BearerToken.of(settings.token());
    this.ingestor = ingestor;
    this.labels = labels;
    this.maxBytes = maxBytes;
    this.defaultSplit = defaultSplit;
    this.decoders = new Semaphore(decodeThreads, true);
    this.memory = UploadMemory.of(settings.maxBufferedBytes(), maxBytes);
    this.bindAddress = InetAddress.getByName(settings.bindAddress());
    Duration readTimeout = settings.readTimeout();
    int maxConnections = settings.maxConnections();

    // Waiting on a client holds no thread; an upload does from its last body byte to its answer
    // (waiting for a decoder, decoding, waiting for Kafka), so every served connection may need one.
    QueuedThreadPool threads = new QueuedThreadPool(maxConnections + 32, 4, 60_000);
    threads.setName("ingest-http");
    threads.setDaemon(true);
    this.server = new Server(threads);
    server.setErrorHandler(new JsonErrors());

    HttpConfiguration http = new HttpConfiguration();
    http.setSendServerVersion(false);
    http.setSendXPoweredBy(false);
    http.setRequestHeaderSize(MAX_HEAD_BYTES);
    http.setPersistentConnectionsEnabled(false); // one request per connection: the head deadline and the slots count requests
    this.connector = new ServerConnector(server, null, new ScheduledExecutorScheduler("ingest-http-scheduler", true), null,
        -1, -1, new HttpConnectionFactory(http));
    connector.setHost(bindAddress.getHostAddress());
    connector.setPort(port);
    connector.setIdleTimeout(readTimeout.toMillis());
    connector.setAcceptQueueSize(ACCEPT_QUEUE);
    connector.setReuseAddress(true);
    this.connections = new UploadConnections(maxConnections, readTimeout, connector.getScheduler());
    connector.addEventListener(connections);
    server.addConnector(connector);
    // Beyond the served connections, as many again are accepted only to be answered 503 at once;
    // beyond those Jetty stops accepting until some close.
    server.addBean(new NetworkConnectionLimit(maxConnections + Math.max(maxConnections, 16), connector));
    server.setHandler(new UploadHandler());
    try {
      connector.open();
    } catch (IOException e) {
      connector.close();
      throw e;
    }
  }

  public void start() {
    try {
      server.start();
    } catch (Exception e) {
      String at = address().toString();
      close();
      throw new IllegalStateException("cannot start the upload endpoint on " + at + ": " + e.getMessage(), e);
    }
    InetSocketAddress at = address();
    log.info("upload endpoint: POST http://{}:{}/images?label=<class-id>&split=train|val (max {} bytes, {}token, new classes {})",
        at.getAddress().getHostAddress(), at.getPort(), maxBytes, token.isPresent() ? "" : "no ",
        settings.allowNewClasses() ? "allowed" : "refused");
    if (!at.getAddress().isLoopbackAddress() && token.isEmpty()) {
      log.warn("the upload endpoint listens on {} without a token: anyone who reaches the port can publish images"
          + " (--http-token-file / INGEST_HTTP_TOKEN)", at.getAddress().getHostAddress());
    }
  }

  public int port() {
    return connector.getLocalPort();
  }

  /** The address the endpoint listens on. */
  public InetSocketAddress address() {
    return new InetSocketAddress(bindAddress, connector.getLocalPort());
  }

  /** Every request: refused on its head, or its body read without a thread and then ingested. */
  private final class UploadHandler extends Handler.Abstract {

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
      Optional<UploadConnections.Slot> slot = connections.headArrived(request.getConnectionMetaData().getConnection());
      if (slot.isEmpty()) { // cut off at its head deadline just now
        problem(408, "the request headers did not arrive within " + settings.readTimeout().toMillis() + " ms")
            .send(response, callback);
        return true;
      }
      if (!slot.get().served()) {
        problem(503, "too many connections (" + connections.maxConnections() + "); try again shortly")
            .withHeader("Retry-After", "1").send(response, callback);
        return true;
      }
      Request.addCompletionListener(request, failure -> slot.get().release());
      Head head;
      try {
        head = checkHead(request);
      } catch (RuntimeException e) {
        log.error("request from {} failed", Request.getRemoteAddr(request), e);
        problem(500, "internal error: " + e).send(response, callback);
        return true;
      }
      if (head.refusal() != null) {
        refuseAfterTheBody(request, response, callback, head.refusal());
        return true;
      }
      UploadBody body = new UploadBody(request, maxBytes, settings.readTimeout(), memory, new UploadBody.Outcome() {
        @Override
        public void body(byte[] bytes) {
          // From here on the service, not the client, takes its time (decoders, Kafka): the
          // connection's idle timeout does not apply.
          request.addIdleTimeoutListener(timeout -> false);
          Reply reply;
          try {
            reply = ingest(bytes, head.upload());
          } catch (RuntimeException e) {
            log.error("upload {} failed", head.upload().source(), e);
            reply = problem(500, "internal error: " + e);
          }
          reply.send(response, callback);
        }

        @Override
        public void refused(int status, String message) {
          log.debug("refused the body of {}: {} {}", head.upload().source(), status, message);
          Reply refusal = problem(status, message);
          (status == 503 ? refusal.withHeader("Retry-After", "1") : refusal).send(response, callback);
        }
      });
      Request.addCompletionListener(request, failure -> body.release()); // its bytes count until it is answered
      body.start();
      return true;
    }
  }

  /**
   * Sends a refusal decided on the head once the body is in: an answer sent while the client is
   * still sending makes the close reset the connection, and the reset can discard the answer
   * before the client reads it. A client that asked for 100-continue has sent no body: it gets the
   * refusal at once (and never a 100). An oversized or stalled body ends as UploadBody ends it.
   */
  private void refuseAfterTheBody(Request request, Response response, Callback callback, Reply refusal) {
    String expect = request.getHeaders().get(HttpHeader.EXPECT);
    if (expect != null && expect.toLowerCase(java.util.Locale.ROOT).contains("100-continue")) {
      refusal.send(response, callback);
      return;
    }
    UploadBody drained = new UploadBody(request, maxBytes, settings.readTimeout(), memory, new UploadBody.Outcome() {
      @Override
      public void body(byte[] bytes) {
        refusal.send(response, callback);
      }

      @Override
      public void refused(int status, String message) {
        refusal.send(response, callback);
      }
    });
    Request.addCompletionListener(request, failure -> drained.release());
    drained.start();
  }

  /** What an upload's head asks for. */
  private record Upload(String label, Split split, String source) {}

  /** An upload whose body is to be read, or the answer to a request refused on its head. */
  private record Head(Upload upload, Reply refusal) {
    static Head refused(Reply reply) {
      return new Head(null, reply);
    }
  }

  private Head checkHead(Request request) {
    if (token.isPresent() && !token.get().acceptsHeader(request.getHeaders().get(HttpHeader.AUTHORIZATION))) {
      boolean given = request.getHeaders().contains(HttpHeader.AUTHORIZATION);
      return Head.refused(problem(401, given ? "wrong bearer token" : "this endpoint needs Authorization: Bearer <token>")
          .withHeader("WWW-Authenticate", given ? "Bearer realm=\"ingest\", error=\"invalid_token\"" : "Bearer realm=\"ingest\""));
    }
    if (!"/images".equals(request.getHttpURI().getPath())) {
      return Head.refused(problem(404, "not found: use POST /images?label=<class-id>&split=train|val"));
    }
    if (!request.getMethod().equals("POST")) {
      return Head.refused(problem(405, "method " + request.getMethod() + " not allowed: use POST").withHeader("Allow", "POST"));
    }
    Fields q;
    try {
      q = Request.extractQueryParameters(request, StandardCharsets.UTF_8);
    } catch (RuntimeException e) { // Jetty's BadMessageException: a malformed %-escape
      return Head.refused(problem(400, "malformed query string: " + e.getMessage()));
    }
    String label = q.getValue("label");
    if (label == null || label.isBlank()) {
      return Head.refused(problem(400, "missing query parameter 'label' (the class id, e.g. n01440764)"));
    }
    Split split = defaultSplit;
    String splitName = q.getValue("split");
    if (splitName != null) {
      var parsed = ImageNetLayout.splitFolder(splitName);
      if (parsed.isEmpty()) {
        return Head.refused(problem(400, "split must be 'train' or 'val', got '" + shorten(splitName) + "'"));
      }
      split = parsed.get();
    }
    String name = q.getValue("name");
    String source = "upload:" + (name == null || name.isBlank() ? Request.getRemoteAddr(request) : name);
    Optional<UploadLabels.Refusal> refusal = labels.refusal(label);
    if (refusal.isPresent() && refusal.get().malformed()) {
      log.info("refused upload {}: {}", source, refusal.get().message());
      return Head.refused(problem(400, refusal.get().message()));
    }
    if (refusal.isPresent()) {
      // 422, not 409: the request names a class this service does not have; nothing in the
      // service's state is in the way that the client could resolve (409 is kept for a picture
      // already published under another class). Same answer as for a class a synsets file lacks.
      ingestor.rejectUnread(source, RejectReason.UNKNOWN_LABEL, refusal.get().message());
      return Head.refused(answer(422,
          new Answer("rejected", null, label, null, RejectReason.UNKNOWN_LABEL.code(), refusal.get().message())));
    }
    return new Head(new Upload(label, split, source), null);
  }

  private Reply ingest(byte[] body, Upload upload) {
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
      result = ingestor.ingest(body, upload.label(), upload.split(), upload.source(), Ingestor.EarlierLabels.READ_BACK);
    } finally {
      decoders.release();
    }
    String label = upload.label();
    return switch (result.status()) {
      case DUPLICATE -> answer(200, new Answer("duplicate", result.id(), label, null, null, "already published"));
      case REJECTED -> rejected(result, label);
      case PUBLISHED -> published(result, label);
    };
  }

  private static Reply rejected(IngestResult result, String label) {
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

  private static Reply published(IngestResult result, String label) {
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

  private static Reply problem(int status, String message) {
    return new Reply(status, Map.of(), json(new Problem(message)));
  }

  private static Reply answer(int status, Answer answer) {
    return new Reply(status, Map.of(), json(answer));
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

  /**
   * The answers Jetty gives itself (a malformed request, headers over the limit, a failure it
   * catches), as the same JSON {@link Problem} as every other refusal instead of Jetty's HTML page.
   */
  private static final class JsonErrors extends ErrorHandler {

    @Override
    public boolean errorPageForMethod(String method) {
      return true; // Jetty leaves the body out of a HEAD answer itself
    }

    @Override
    protected void generateResponse(Request request, Response response, int code, String message, Throwable cause,
        Callback callback) {
      String text = message == null || message.isBlank() ? HttpStatus.getMessage(code) : message;
      byte[] body = json(new Problem(text));
      response.getHeaders().put(new HttpField(HttpHeader.CONTENT_TYPE, JSON_TYPE));
      response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
      response.write(true, ByteBuffer.wrap(body), callback);
    }
  }

  @Override
  public void close() {
    try {
      server.stop();
    } catch (Exception e) {
      log.debug("stopping the upload endpoint: {}", e.toString());
    } finally {
      connector.close(); // bound in the constructor: released also when never started
    }
  }
}
