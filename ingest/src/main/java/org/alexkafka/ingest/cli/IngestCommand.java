package org.alexkafka.ingest.cli;

import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.alexkafka.ingest.IngestConfig;
import org.alexkafka.ingest.IngestService;
import org.alexkafka.ingest.IngestSummary;
import org.alexkafka.ingest.source.UploadSettings;
import org.alexkafka.schemas.Split;
import org.alexkafka.schemas.config.KafkaOptions;
import org.alexkafka.ingest.decode.ImageDecoder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ingest}: image folders (once or watched) and uploads to the images topic. */
@Command(name = "ingest", mixinStandardHelpOptions = true,
    description = {"Decodes images (any common format), scales the shorter side to --image-size, takes the central square "
        + "and publishes it to the images topic; bad input goes to images.rejected with the reason.",
        "Folder layout: <folder>/<class-id>/<image>, or <folder>/train|val/<class-id>/<image>."})
public final class IngestCommand implements Callable<Integer> {

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec; // the command line this runs in (for usage errors)

  @Mixin
  KafkaOptions kafka = new KafkaOptions();

  @Parameters(index = "0", arity = "0..1", paramLabel = "FOLDER", defaultValue = "${env:INGEST_FOLDER:-}",
      description = "Folder tree to ingest (env INGEST_FOLDER).")
  String folder;

  @Option(names = "--watch", defaultValue = "${env:INGEST_WATCH:-false}",
      description = "After the first scan, keep publishing files added to FOLDER (env INGEST_WATCH).")
  boolean watch;

  @Option(names = "--http-port", defaultValue = "${env:INGEST_HTTP_PORT:--1}",
      description = "Open the upload endpoint POST /images?label=..&split=.. on this port; -1 = off (env INGEST_HTTP_PORT, default ${DEFAULT-VALUE}).")
  int httpPort;

  @Option(names = "--http-bind", defaultValue = "${env:INGEST_HTTP_BIND:-" + UploadSettings.DEFAULT_BIND_ADDRESS + "}",
      description = "Address the upload endpoint listens on: 127.0.0.1 = this machine only; 0.0.0.0 = every interface"
          + " (then set a token) (env INGEST_HTTP_BIND, default ${DEFAULT-VALUE}).")
  String httpBind;

  @Option(names = "--http-token", defaultValue = "${env:INGEST_HTTP_TOKEN:-}",
      description = "Uploads must carry 'Authorization: Bearer <token>' (401 otherwise). Prefer the env variable or"
          + " --http-token-file: a flag shows in the process list (env INGEST_HTTP_TOKEN; default none).")
  String httpToken;

  @Option(names = "--http-token-file", defaultValue = "${env:INGEST_HTTP_TOKEN_FILE:-}",
      description = "Read the upload token from this file (e.g. a mounted secret; surrounding whitespace is dropped)"
          + " (env INGEST_HTTP_TOKEN_FILE).")
  String httpTokenFile;

  @Option(names = "--http-new-classes", arity = "0..1", paramLabel = "true|false", fallbackValue = "true",
      defaultValue = "${env:INGEST_HTTP_NEW_CLASSES:-true}",
      description = "Without --synsets, an upload with a class id the labels topic does not hold creates that class;"
          + " false = such uploads get 422 (env INGEST_HTTP_NEW_CLASSES, default ${DEFAULT-VALUE}).")
  boolean httpNewClasses;

  @Option(names = "--http-read-timeout-ms", defaultValue = "${env:INGEST_HTTP_READ_TIMEOUT_MS:-" + UploadSettings.DEFAULT_READ_TIMEOUT_MS + "}",
      description = "An upload whose headers take longer is cut off; one whose body stops for longer (or trickles) is "
          + "answered 408 (env INGEST_HTTP_READ_TIMEOUT_MS, default ${DEFAULT-VALUE}).")
  long httpReadTimeoutMs;

  @Option(names = "--http-max-connections", defaultValue = "${env:INGEST_HTTP_MAX_CONNECTIONS:-" + UploadSettings.DEFAULT_MAX_CONNECTIONS + "}",
      description = "Upload connections served at once; more are answered 503 (env INGEST_HTTP_MAX_CONNECTIONS,"
          + " default ${DEFAULT-VALUE}).")
  int httpMaxConnections;

  @Option(names = "--http-max-buffered-mb", defaultValue = "${env:INGEST_HTTP_MAX_BUFFERED_MB:-0}",
      description = "Upload bodies held in memory at once, in MB (they are kept whole until decoded); beyond it uploads "
          + "are answered 503 with Retry-After. 0 = a quarter of the heap.")
  long httpMaxBufferedMb;

  @Option(names = "--split", defaultValue = "${env:INGEST_SPLIT:-train}",
      description = "Split of files outside a train/ or val/ folder and of uploads without split= (env INGEST_SPLIT, default ${DEFAULT-VALUE}).")
  String split;

  @Option(names = "--synsets", defaultValue = "${env:INGEST_SYNSETS:-}",
      description = "Class order file (LOC_synset_mapping.txt format): line number = class index; other classes are rejected,"
          + " from folders and uploads alike. Without it, any well-formed class id ([A-Za-z0-9_.-], at most 64) becomes"
          + " a new class, also over HTTP unless --http-new-classes=false (env INGEST_SYNSETS).")
  String synsets;

  @Option(names = "--image-size", defaultValue = "${env:INGEST_IMAGE_SIZE:-" + IngestConfig.DEFAULT_IMAGE_SIZE + "}",
      description = "Side of the published square (env INGEST_IMAGE_SIZE, default ${DEFAULT-VALUE}).")
  int imageSize;

  @Option(names = "--max-pixels", defaultValue = "${env:INGEST_MAX_PIXELS:-" + ImageDecoder.DEFAULT_MAX_PIXELS + "}",
      description = "Refuse images whose header claims more pixels (env INGEST_MAX_PIXELS, default ${DEFAULT-VALUE}).")
  long maxPixels;

  @Option(names = "--max-bytes", defaultValue = "${env:INGEST_MAX_BYTES:-" + IngestConfig.DEFAULT_MAX_UPLOAD_BYTES + "}",
      description = "Largest file or upload body accepted (env INGEST_MAX_BYTES, default ${DEFAULT-VALUE}).")
  long maxBytes;

  @Option(names = "--seed", defaultValue = "${env:INGEST_SEED:-" + IngestConfig.DEFAULT_SEED + "}",
      description = "Seed of the shuffle of each scan (env INGEST_SEED, default ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--threads", defaultValue = "${env:INGEST_THREADS:-0}",
      description = "Decoding threads; 0 = one per core (env INGEST_THREADS).")
  int threads;

  @Option(names = "--watch-interval-ms", defaultValue = "${env:INGEST_WATCH_INTERVAL_MS:-" + IngestConfig.DEFAULT_WATCH_INTERVAL_MS + "}",
      description = "How often watch mode looks for new files (env INGEST_WATCH_INTERVAL_MS, default ${DEFAULT-VALUE}).")
  long watchIntervalMs;

  @Option(names = "--compression", defaultValue = "${env:INGEST_COMPRESSION:-" + IngestConfig.DEFAULT_COMPRESSION + "}",
      description = "Producer compression.type (env INGEST_COMPRESSION, default ${DEFAULT-VALUE}: decoded pixels barely compress).")
  String compression;

  @Option(names = "--replication-factor", defaultValue = "${env:REPLICATION_FACTOR:-1}",
      description = "Replication of topics created if missing (env REPLICATION_FACTOR, default ${DEFAULT-VALUE}).")
  short replicationFactor;

  @Option(names = "--no-progress", negatable = false, defaultValue = "${env:INGEST_NO_PROGRESS:-false}",
      description = "No progress bar.")
  boolean noProgress;

  // Micrometer's global registry: the CLI adds a Prometheus registry to it when --metrics-port is set.
  private MeterRegistry registry = io.micrometer.core.instrument.Metrics.globalRegistry;

  /** The all-in-one runner passes its registry so the counters reach its metrics endpoint. */
  public IngestCommand withRegistry(MeterRegistry registry) {
    this.registry = registry;
    return this;
  }

  public IngestConfig toConfig() {
    Split defaultSplit = switch (split.toLowerCase(Locale.ROOT)) {
      case "train" -> Split.TRAIN;
      case "val" -> Split.VAL;
      default -> throw new IllegalArgumentException("--split must be train or val, got " + split);
    };
    return new IngestConfig(kafka.toConnection(), blank(folder) ? null : Path.of(folder), watch, httpPort, defaultSplit,
        blank(synsets) ? null : Path.of(synsets), imageSize, maxPixels, seed,
        threads > 0 ? threads : Runtime.getRuntime().availableProcessors(), maxBytes, Duration.ofMillis(watchIntervalMs),
        compression, replicationFactor, !noProgress, uploadSettings());
  }

  private UploadSettings uploadSettings() {
    if (!blank(httpToken) && !blank(httpTokenFile)) {
      throw new IllegalArgumentException("give --http-token or --http-token-file, not both");
    }
    String token = httpToken;
    if (!blank(httpTokenFile)) {
      try {
        token = Files.readString(Path.of(httpTokenFile), StandardCharsets.UTF_8).strip();
      } catch (IOException e) {
        throw new IllegalArgumentException("cannot read --http-token-file " + httpTokenFile + ": " + e.getMessage(), e);
      }
      if (token.isEmpty()) {
        throw new IllegalArgumentException("--http-token-file " + httpTokenFile + " is empty");
      }
    }
    return new UploadSettings(httpBind, token, Duration.ofMillis(httpReadTimeoutMs), httpMaxConnections, httpNewClasses,
        httpMaxBufferedMb * 1024 * 1024);
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }

  @Override
  public Integer call() throws Exception {
    IngestConfig config;
    try {
      config = toConfig();
    } catch (IllegalArgumentException e) { // a bad value of an option: a usage error (exit 2), not a failure
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    if (config.folder() == null && config.httpPort() < 0) {
      System.err.println("nothing to do: give a FOLDER and/or --http-port");
      return 2;
    }
    // local inputs first: a missing folder is said at once, not after waiting for Kafka
    if (config.folder() != null && !java.nio.file.Files.isDirectory(config.folder())) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), "FOLDER " + config.folder()
          + (java.nio.file.Files.exists(config.folder()) ? " is not a folder" : " does not exist"));
    }
    System.err.println("connecting to Kafka at " + config.kafka().bootstrapServers() + " ...");
    CountDownLatch stop = new CountDownLatch(1);
    CountDownLatch closed = new CountDownLatch(1);
    try (IngestService service = new IngestService(config, registry).start()) {
      if (config.folder() != null && !config.watch()) {
        IngestSummary summary = service.scanFolder(config.folder());
        System.out.println(summary.describe());
      } else if (config.folder() != null) {
        System.out.println(service.startWatch(config.folder()).describe());
      }
      if (config.watch() || config.httpPort() >= 0) {
        if (config.httpPort() >= 0) {
          int port = service.startHttp(config.httpPort());
          System.out.println("upload endpoint: POST http://" + config.upload().bindAddress() + ":" + port
              + "/images?label=<class-id>&split=train|val" + (config.upload().token() == null ? "" : " (bearer token required)"));
        }
        // Ctrl-C: let the service close (flush the producer) before the JVM exits.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
          stop.countDown();
          try {
            closed.await(60, java.util.concurrent.TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }, "ingest-stop"));
        System.out.println("running; Ctrl-C to stop");
        stop.await();
        System.out.println(service.summary().describe());
      }
    } finally {
      closed.countDown();
    }
    return 0;
  }
}
