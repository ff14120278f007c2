package org.alexkafka.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import org.alexkafka.broker.SharedKafka;
import org.alexkafka.ingest.publish.ContentId;
import org.alexkafka.ingest.source.UploadSettings;
import org.alexkafka.schemas.Image;
import org.alexkafka.schemas.Rejection;
import org.alexkafka.schemas.config.KafkaConnection;
import org.alexkafka.schemas.topics.Topics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** The upload endpoint against slow clients, strangers and bad labels, through the real broker. */
class UploadServerIT {

  private static final int SIZE = 32;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  private static IngestConfig config(Topics topics, UploadSettings upload) {
    return IngestConfig.defaults(new KafkaConnection(SharedKafka.broker().bootstrapServers(), topics))
        .withImageSize(SIZE).withHttpPort(0, 2_000_000).withUpload(upload);
  }

  private static byte[] photo(String synset) throws IOException {
    try (var files = Files.list(TestData.root().resolve("imagenet-val-100").resolve(synset))) {
      return Files.readAllBytes(files.findFirst().orElseThrow());
    }
  }

  private static HttpResponse<String> post(int port, String query, byte[] body, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + query))
        .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static JsonNode json(HttpResponse<String> r) throws IOException {
    return JSON.readTree(r.body());
  }

  /** A client that sends the head and a few body bytes of a 100 kB upload, then nothing. */
  private static Socket stalledUpload(int port) throws IOException {
    Socket s = new Socket("127.0.0.1", port);
    s.getOutputStream().write(("POST /images?label=n01440764 HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nabcdefghij")
        .getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    return s;
  }

  /** Everything the server sends until it closes the connection. */
  private static String readToClose(Socket s, Duration patience) throws IOException {
    s.setSoTimeout((int) patience.toMillis());
    return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
  }

  @Test
  void twoHundredStalledClientsDoNotKeepANormalUploadWaitingAndAreCutOffAfterTheReadTimeout() throws Exception {
    Topics topics = SharedKafka.freshTopics("upload-stall");
    Duration timeout = Duration.ofSeconds(5);
    byte[] photo = photo("n01440764");
    try (IngestService service = new IngestService(config(topics, UploadSettings.defaults().withReadTimeout(timeout)),
        new SimpleMeterRegistry()).start()) {
      int port = service.startHttp(0);
      List<Socket> stalled = new ArrayList<>();
      List<Long> openedAt = new ArrayList<>();
      try {
        for (int i = 0; i < 200; i++) {
          stalled.add(stalledUpload(port));
          openedAt.add(System.nanoTime());
        }
        Thread.sleep(300); // the server has them all

        long t0 = System.nanoTime();
        HttpResponse<String> normal = post(port, "/images?label=n01440764&name=normal.jpg", photo);
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("normal upload under 200 stalled clients: %d after %.2f s%n", normal.statusCode(), seconds);
        assertThat(normal.statusCode()).isEqualTo(201);
        assertThat(seconds).as("answered well before the stalled clients time out").isLessThan(3.0);

        double longest = 0;
        for (int i = 0; i < stalled.size(); i++) {
          String answer = readToClose(stalled.get(i), Duration.ofSeconds(20)); // EOF: the server closed it
          double after = (System.nanoTime() - openedAt.get(i)) / 1e9;
          longest = Math.max(longest, after);
          assertThat(answer).as("stalled client %d", i).startsWith("HTTP/1.1 408 ");
          assertThat(after).as("stalled client %d cut off after the 5 s read timeout, not before", i).isGreaterThan(4.5);
        }
        System.out.printf("200 stalled clients answered 408 and closed at most %.2f s after they stalled%n", longest);
        assertThat(longest).as("cut off within the timeout and a margin").isLessThan(timeout.toSeconds() + 4.0);
      } finally {
        for (Socket s : stalled) {
          s.close();
        }
      }
    }
    TopicContents contents = TopicContents.read(SharedKafka.broker().bootstrapServers(), topics);
    assertThat(contents.images()).extracting(Image::getSource).containsExactly("upload:normal.jpg");
    assertThat(contents.rejections()).isEmpty();
  }

  @Test
  void clientsThatTrickleTheirHeadersOrBodyAreCutOffToo() throws Exception {
    Topics topics = SharedKafka.freshTopics("upload-trickle");
    Duration timeout = Duration.ofSeconds(1);
    try (IngestService service = new IngestService(config(topics, UploadSettings.defaults().withReadTimeout(timeout)),
        new SimpleMeterRegistry()).start()) {
      int port = service.startHttp(0);
      // One byte every 300 ms: never silent for the read timeout, yet far too slow. A trickled body
      // is answered 408; a connection whose headers are not in by the read timeout is closed
      // without an answer (there is no request yet to answer: Jetty does the same on a stalled head).
      for (boolean inHeaders : List.of(true, false)) {
        String start = inHeaders ? "POST /images?label=n01440764 HTTP/1.1\r\nHost: x\r\nX-Slow: "
            : "POST /images?label=n01440764 HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n";
        try (Socket s = new Socket("127.0.0.1", port)) {
          OutputStream out = s.getOutputStream();
          out.write(start.getBytes(StandardCharsets.US_ASCII));
          long t0 = System.nanoTime();
          try {
            for (int i = 0; i < 40; i++) {
              Thread.sleep(300);
              out.write('a');
              out.flush();
            }
          } catch (IOException cutOff) {
            // the server closed the connection: expected
          }
          String answer;
          try {
            answer = readToClose(s, Duration.ofSeconds(5));
          } catch (SocketException reset) { // closed with a trickled byte unread
            answer = "";
          }
          double seconds = (System.nanoTime() - t0) / 1e9;
          if (inHeaders) {
            assertThat(answer).as("headers never completed: closed, no answer").isEmpty();
          } else {
            assertThat(answer).startsWith("HTTP/1.1 408 ");
          }
          assertThat(seconds).as("cut off near the 1 s deadline, not after the 12 s of trickle").isLessThan(4.0);
        }
      }
    }
  }

  @Test
  void overTheConnectionLimitANewClientGetsA503AtOnceAndIsServedOnceTheStalledOnesAreCutOff() throws Exception {
    Topics topics = SharedKafka.freshTopics("upload-limit");
    UploadSettings upload = UploadSettings.defaults().withReadTimeout(Duration.ofSeconds(2)).withMaxConnections(10);
    byte[] photo = photo("n01530575");
    try (IngestService service = new IngestService(config(topics, upload), new SimpleMeterRegistry()).start()) {
      int port = service.startHttp(0);
      List<Socket> stalled = new ArrayList<>();
      try {
        for (int i = 0; i < 10; i++) {
          stalled.add(stalledUpload(port));
        }
        Thread.sleep(300);
        long t0 = System.nanoTime();
        HttpResponse<String> refused = post(port, "/images?label=n01530575", photo);
        assertThat(refused.statusCode()).isEqualTo(503);
        assertThat(refused.headers().firstValue("Retry-After")).isPresent();
        assertThat(json(refused).get("error").asText()).contains("too many connections");
        assertThat((System.nanoTime() - t0) / 1e9).as("refused at once, not queued").isLessThan(1.0);
        for (Socket s : stalled) {
          assertThat(readToClose(s, Duration.ofSeconds(10))).startsWith("HTTP/1.1 408 ");
        }
        assertThat(post(port, "/images?label=n01530575", photo).statusCode()).isEqualTo(201);
      } finally {
        for (Socket s : stalled) {
          s.close();
        }
      }
    }
    assertThat(TopicContents.read(SharedKafka.broker().bootstrapServers(), topics).images()).hasSize(1);
  }

  @Test
  void withATokenOnlyUploadsThatCarryItAreServed() throws Exception {
    Topics topics = SharedKafka.freshTopics("upload-token");
    byte[] photo = photo("n01601694");
    try (IngestService service = new IngestService(config(topics, UploadSettings.defaults().withToken("s3cret-t0ken")),
        new SimpleMeterRegistry()).start()) {
      int port = service.startHttp(0);
      String q = "/images?label=n01601694";
      HttpResponse<String> none = post(port, q, photo);
      assertThat(none.statusCode()).isEqualTo(401);
      assertThat(none.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
      HttpResponse<String> wrong = post(port, q, photo, "Authorization", "Bearer s3cret-t0kem");
      assertThat(wrong.statusCode()).isEqualTo(401);
      assertThat(wrong.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v ->
          assertThat(v).startsWith("Bearer").contains("invalid_token"));
      assertThat(post(port, q, photo, "Authorization", "Basic czNjcmV0LXQwa2Vu").statusCode()).isEqualTo(401);
      assertThat(post(port, "/other", photo).statusCode()).as("no token: not even a 404").isEqualTo(401);
      HttpResponse<String> right = post(port, q, photo, "Authorization", "Bearer s3cret-t0ken");
      assertThat(right.statusCode()).isEqualTo(201);
      assertThat(post(port, q, photo, "Authorization", "bearer s3cret-t0ken").statusCode()).as("scheme is case-insensitive")
          .isEqualTo(200);
    }
    TopicContents contents = TopicContents.read(SharedKafka.broker().bootstrapServers(), topics);
    assertThat(contents.images()).hasSize(1);
    assertThat(contents.rejections()).isEmpty();
  }

  @Test
  void theEndpointListensOnLoopbackUnlessToldOtherwise() throws Exception {
    Topics topics = SharedKafka.freshTopics("upload-bind");
    assertThat(IngestConfig.defaults(new KafkaConnection("k:9092", topics)).upload().bindAddress()).isEqualTo("127.0.0.1");
    Optional<InetAddress> external = Collections.list(NetworkInterface.getNetworkInterfaces()).stream()
        .filter(i -> {
          try {
            return i.isUp() && !i.isLoopback();
          } catch (IOException e) {
            return false;
          }
        })
        .flatMap(i -> Collections.list(i.getInetAddresses()).stream()).filter(a -> a instanceof Inet4Address).findFirst();
    try (IngestService service = new IngestService(config(topics, UploadSettings.defaults()), new SimpleMeterRegistry()).start()) {
      int port = service.startHttp(0);
      InetSocketAddress at = service.httpAddress().orElseThrow();
      assertThat(at.getAddress().isLoopbackAddress()).isTrue();
      if (external.isPresent()) { // this machine's other address does not reach it
        assertThatThrownBy(() -> new Socket(external.get(), port).close()).isInstanceOf(IOException.class);
      }
    }
    try (IngestService service = new IngestService(config(topics, UploadSettings.defaults().withBindAddress("0.0.0.0")),
        new SimpleMeterRegistry()).start()) {
      int port = service.startHttp(0);
      assertThat(service.httpAddress().orElseThrow().getAddress().isAnyLocalAddress()).isTrue();
      if (external.isPresent()) {
        try (Socket s = new Socket(external.get(), port)) {
          s.getOutputStream().write("GET /images HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
          assertThat(readToClose(s, Duration.ofSeconds(5))).startsWith("HTTP/1.1 405 ");
        }
      }
    }
  }

  @Test
  void malformedClassIdsAre400AndNothingIsPublished() throws Exception {
    Topics topics = SharedKafka.freshTopics("upload-badlabel");
    byte[] photo = photo("n01641577");
    try (IngestService service = new IngestService(config(topics, UploadSettings.defaults()), new SimpleMeterRegistry()).start()) {
      int port = service.startHttp(0);
      for (String bad : List.of("../../etc", "x".repeat(5000), ".", "..", "a b", "n0144/0764", "tab\tcat", "quote\"d", "ünïcode")) {
        HttpResponse<String> r = post(port, "/images?label=" + URLEncoder.encode(bad, StandardCharsets.UTF_8), photo);
        assertThat(r.statusCode()).as("label %s", bad.length() > 20 ? bad.substring(0, 20) + "..." : bad).isEqualTo(400);
        String error = json(r).get("error").asText(); // valid JSON whatever the label holds
        assertThat(error).contains("class id").contains("A-Z a-z 0-9 _ . -").doesNotContain("x".repeat(100));
      }
      assertThat(json(post(port, "/images?label=" + "x".repeat(5000), photo)).get("error").asText())
          .contains("5000 characters long");
      assertThat(service.labels()).isEmpty();
      HttpResponse<String> ok = post(port, "/images?label=Tabby_cat-2.v1", photo);
      assertThat(ok.statusCode()).isEqualTo(201);
      assertThat(service.labels()).containsOnlyKeys("Tabby_cat-2.v1");
    }
    TopicContents contents = TopicContents.read(SharedKafka.broker().bootstrapServers(), topics);
    assertThat(contents.images()).extracting(Image::getLabel).containsExactly("Tabby_cat-2.v1");
    assertThat(contents.labels()).containsOnlyKeys("Tabby_cat-2.v1");
    assertThat(contents.rejections()).isEmpty();
  }

  @Test
  void withNewClassesRefusedAnUnknownLabelIs422AndAKnownOneIsPublished() throws Exception {
    Topics topics = SharedKafka.freshTopics("upload-newclass");
    UploadSettings upload = UploadSettings.defaults().withNewClasses(false);
    try (IngestService service = new IngestService(config(topics, upload), new SimpleMeterRegistry()).start()) {
      // A folder scan (or an earlier run) created the class; HTTP may use it but create none.
      assertThat(service.ingestor().ingest(photo("n01682714"), "n01682714", org.alexkafka.schemas.Split.TRAIN, "folder")
          .status()).isEqualTo(IngestResult.Status.PUBLISHED);
      int port = service.startHttp(0);
      HttpResponse<String> unknown = post(port, "/images?label=n01698640&name=alligator.jpg", photo("n01698640"));
      assertThat(unknown.statusCode()).isEqualTo(422);
      assertThat(json(unknown).get("reason").asText()).isEqualTo("unknown-label");
      assertThat(json(unknown).get("detail").asText()).contains("--http-new-classes=false");
      assertThat(post(port, "/images?label=n01682714", photo("n01740131")).statusCode()).isEqualTo(201);
      assertThat(service.labels()).containsOnlyKeys("n01682714");
    }
    TopicContents contents = TopicContents.read(SharedKafka.broker().bootstrapServers(), topics);
    assertThat(contents.images()).hasSize(2).extracting(Image::getLabel).containsOnly("n01682714");
    assertThat(contents.labels()).containsOnlyKeys("n01682714");
    assertThat(contents.rejections()).singleElement().satisfies(r -> {
      assertThat(r.getReason()).isEqualTo("unknown-label");
      assertThat(r.getSource()).isEqualTo("upload:alligator.jpg");
    });
  }

  @Test
  void aClassFolderWithAMalformedNameIsRejectedWithTheReasonAndRecorded(@TempDir Path dir) throws Exception {
    Topics topics = SharedKafka.freshTopics("upload-badfolder");
    for (String name : List.of("bad name", "y".repeat(70), "n01440764")) {
      Files.createDirectories(dir.resolve(name));
    }
    Files.write(dir.resolve("bad name/a.JPEG"), photo("n01440764"));
    Files.write(dir.resolve("y".repeat(70)).resolve("b.JPEG"), photo("n01530575"));
    Files.write(dir.resolve("n01440764/c.JPEG"), photo("n01601694"));
    IngestSummary summary;
    try (IngestService service = new IngestService(config(topics, UploadSettings.defaults()), new SimpleMeterRegistry()).start()) {
      summary = service.scanFolder(dir);
    }
    assertThat(summary.published()).isEqualTo(1);
    assertThat(summary.rejectedByReason()).containsEntry("invalid-label", 2L);
    TopicContents contents = TopicContents.read(SharedKafka.broker().bootstrapServers(), topics);
    assertThat(contents.labels()).containsOnlyKeys("n01440764");
    assertThat(contents.rejections()).hasSize(2).allSatisfy(r -> {
      assertThat(r.getReason()).isEqualTo("invalid-label");
      assertThat(r.getImageId()).isNotNull();
    });
    assertThat(contents.rejections()).extracting(Rejection::getDetail).anySatisfy(d -> assertThat(d).contains("'bad name' is not valid"))
        .anySatisfy(d -> assertThat(d).contains("70 characters long"));
    assertThat(contents.rejections()).extracting(r -> Path.of(r.getSource()).getFileName().toString())
        .containsExactlyInAnyOrder("a.JPEG", "b.JPEG");
  }

  @Test
  void aKnownPictureUnderAnotherLabelIs409NamingBothAndIsRecordedAlsoAfterARestart() throws Exception {
    Topics topics = SharedKafka.freshTopics("upload-conflict");
    byte[] photo = photo("n01440764");
    String id = ContentId.of(photo);
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    Logger ingestorLog = (Logger) LoggerFactory.getLogger(Ingestor.class);
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    ingestorLog.addAppender(logged);
    try {
      try (IngestService service = new IngestService(config(topics, UploadSettings.defaults()), meters).start()) {
        int port = service.startHttp(0);
        assertThat(post(port, "/images?label=n01440764&name=tench.jpg", photo).statusCode()).isEqualTo(201);
        HttpResponse<String> same = post(port, "/images?label=n01440764", photo);
        assertThat(same.statusCode()).isEqualTo(200);
        assertThat(json(same).get("status").asText()).isEqualTo("duplicate");

        HttpResponse<String> other = post(port, "/images?label=n02123045&name=cat.jpg", photo);
        assertThat(other.statusCode()).isEqualTo(409);
        JsonNode answer = json(other);
        assertThat(answer.get("status").asText()).isEqualTo("conflict");
        assertThat(answer.get("reason").asText()).isEqualTo("label-conflict");
        assertThat(answer.get("id").asText()).isEqualTo(id);
        assertThat(answer.get("label").asText()).isEqualTo("n02123045");
        assertThat(answer.get("keptLabel").asText()).isEqualTo("n01440764");
        assertThat(answer.get("detail").asText()).contains("n01440764", "n02123045");
        assertThat(service.summary().rejectedByReason()).containsEntry("label-conflict", 1L);
        assertThat(meters.get("ingest.images.rejected").tag("reason", "label-conflict").counter().count()).isEqualTo(1.0);
        assertThat(service.labels()).as("the refused class is not registered").containsOnlyKeys("n01440764");
      }
      assertThat(logged.list).map(ILoggingEvent::getFormattedMessage)
          .anySatisfy(m -> assertThat(m).contains("label-conflict", id, "n01440764", "n02123045"));

      // After a restart the first label is read back from the images topic.
      try (IngestService service = new IngestService(config(topics, UploadSettings.defaults()), new SimpleMeterRegistry()).start()) {
        int port = service.startHttp(0);
        HttpResponse<String> other = post(port, "/images?label=n02123045&name=cat-again.jpg", photo);
        assertThat(other.statusCode()).isEqualTo(409);
        assertThat(json(other).get("keptLabel").asText()).isEqualTo("n01440764");
        assertThat(post(port, "/images?label=n01440764", photo).statusCode()).isEqualTo(200);
      }
    } finally {
      ingestorLog.detachAppender(logged);
    }
    TopicContents contents = TopicContents.read(SharedKafka.broker().bootstrapServers(), topics);
    assertThat(contents.images()).singleElement().satisfies(i -> assertThat(i.getLabel()).isEqualTo("n01440764"));
    assertThat(contents.labels()).containsOnlyKeys("n01440764");
    assertThat(contents.rejections()).hasSize(2).allSatisfy(r -> {
      assertThat(r.getReason()).isEqualTo("label-conflict");
      assertThat(r.getImageId()).isEqualTo(id);
      assertThat(r.getDetail()).contains("n01440764", "n02123045");
    });
    assertThat(contents.rejections()).extracting(Rejection::getSource).containsExactly("upload:cat.jpg", "upload:cat-again.jpg");
  }

  @Test
  void chunkedBodiesAndExpectContinueAreUnderstoodAndRefusalsAreAnsweredBeforeTheBody() throws Exception {
    Topics topics = SharedKafka.freshTopics("upload-http");
    byte[] photo = photo("n01530575");
    try (IngestService service = new IngestService(config(topics, UploadSettings.defaults()), new SimpleMeterRegistry()).start()) {
      int port = service.startHttp(0);
      HttpResponse<String> chunked = CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
              + "/images?label=n01530575")).expectContinue(true)
          .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(photo))).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(chunked.statusCode()).isEqualTo(201);
      assertThat(json(chunked).get("id").asText()).isEqualTo(ContentId.of(photo));

      // A refusal on the head comes before the body: the client is not told to continue.
      try (Socket s = new Socket("127.0.0.1", port)) {
        s.getOutputStream().write(("POST /images?label=../x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
            + "Content-Length: 500000\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        String answer = readToClose(s, Duration.ofSeconds(5));
        assertThat(answer).startsWith("HTTP/1.1 400 ").doesNotContain("100 Continue");
      }
      // Malformed framing is refused, not guessed at.
      try (Socket s = new Socket("127.0.0.1", port)) {
        s.getOutputStream().write(("POST /images?label=n01530575 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        assertThat(readToClose(s, Duration.ofSeconds(5))).startsWith("HTTP/1.1 400 ");
      }
    }
    assertThat(TopicContents.read(SharedKafka.broker().bootstrapServers(), topics).images()).hasSize(1);
  }

  @Test
  void aBodyOverTheLimitIsAnswered413EveryTimeWhetherDeclaredOrChunkedAndAHugeDeclaredOneAtOnce() throws Exception {
    Topics topics = SharedKafka.freshTopics("upload-big");
    byte[] big = new byte[3_000_000]; // over the 2,000,000 of config(), under UploadBody.DISCARD_BYTES
    new java.util.Random(7).nextBytes(big);
    try (IngestService service = new IngestService(config(topics, UploadSettings.defaults()), new SimpleMeterRegistry()).start()) {
      int port = service.startHttp(0);
      // Answered while the client still sends, the 413 was sometimes lost in the connection's reset.
      for (int i = 0; i < 8; i++) {
        HttpResponse<String> declared = post(port, "/images?label=n01440764", big);
        assertThat(declared.statusCode()).as("declared, try %d", i).isEqualTo(413);
        assertThat(json(declared).get("error").asText()).contains("3000000 bytes is over the limit of 2000000");
        HttpResponse<String> chunked = CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                + "/images?label=n01440764")).timeout(Duration.ofSeconds(30))
            .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big))).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(chunked.statusCode()).as("chunked, try %d", i).isEqualTo(413);
        assertThat(json(chunked).get("error").asText()).contains("over the limit of 2000000");
      }
      // Too big to be worth reading: refused on its head, before any of the body is sent.
      try (Socket s = new Socket("127.0.0.1", port)) {
        s.getOutputStream().write(("POST /images?label=n01440764 HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
        assertThat(readToClose(s, Duration.ofSeconds(5))).startsWith("HTTP/1.1 413 ");
      }
    }
    assertThat(TopicContents.read(SharedKafka.broker().bootstrapServers(), topics).images()).isEmpty();
  }

  @Test
  void bodiesHeldInMemoryAtOnceAreBoundedAndTheBoundIsFreedWhenABodyIsAnswered() throws Exception {
    Topics topics = SharedKafka.freshTopics("upload-memory");
    byte[] photo = photo("n01440764");
    byte[] noise = new byte[1_000_000];
    new java.util.Random(11).nextBytes(noise);
    // room for 2.5 MB of bodies; one upload may be up to 2 MB (config())
    UploadSettings upload = UploadSettings.defaults().withMaxBufferedBytes(2_500_000);
    try (IngestService service = new IngestService(config(topics, upload), new SimpleMeterRegistry()).start()) {
      int port = service.startHttp(0);
      try (Socket stalled = new Socket("127.0.0.1", port)) {
        stalled.getOutputStream().write(("POST /images?label=n01440764 HTTP/1.1\r\nHost: x\r\nContent-Length: 1900000\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
        stalled.getOutputStream().write(new byte[1_600_000]); // held by the server, then nothing more
        stalled.getOutputStream().flush();
        Thread.sleep(2000); // the server reads what arrives at once (more than 1.5 MB of it is enough below)
        HttpResponse<String> refused = post(port, "/images?label=n01440764&name=noise.bin", noise);
        assertThat(refused.statusCode()).as("1.6 MB held + 1 MB > 2.5 MB").isEqualTo(503);
        assertThat(refused.headers().firstValue("Retry-After")).isPresent();
        assertThat(json(refused).get("error").asText()).contains("in memory");
        assertThat(post(port, "/images?label=n01440764&name=tench.jpg", photo).statusCode())
            .as("a small one still fits beside the stalled one").isEqualTo(201);
      }
      // the stalled client is gone: its 1.6 MB are free again
      long deadline = System.currentTimeMillis() + 10_000;
      HttpResponse<String> again;
      do {
        Thread.sleep(200);
        again = post(port, "/images?label=n01440764&name=noise.bin", noise);
      } while (again.statusCode() == 503 && System.currentTimeMillis() < deadline);
      assertThat(again.statusCode()).as("read whole, then rejected as no picture").isEqualTo(422);
    }
    List<Rejection> rejections = TopicContents.read(SharedKafka.broker().bootstrapServers(), topics).rejections();
    assertThat(rejections).extracting(Rejection::getSource).containsExactly("upload:noise.bin");
  }
}
