package org.alexkafka.ingest;

import org.alexkafka.schemas.RejectReason;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import org.alexkafka.ingest.decode.ImageDecoder;
import org.alexkafka.ingest.decode.ImagePreparer;
import org.alexkafka.ingest.publish.IngestPublisher;
import org.alexkafka.ingest.publish.LabelRegistry;
import org.alexkafka.ingest.publish.ProducerSettings;
import org.alexkafka.ingest.publish.PublishedIds;
import org.alexkafka.ingest.publish.PublishedLabelReader;
import org.alexkafka.ingest.publish.Synsets;
import org.alexkafka.ingest.publish.TopicReader;
import org.alexkafka.ingest.resize.ResampleFilter;
import org.alexkafka.ingest.source.FolderListing;
import org.alexkafka.ingest.source.FolderWatcher;
import org.alexkafka.ingest.source.SourceFile;
import org.alexkafka.ingest.source.UploadLabels;
import org.alexkafka.ingest.source.UploadServer;
import org.alexkafka.ingest.source.UploadSettings;
import org.alexkafka.schemas.ImageRef;
import org.alexkafka.schemas.LabelEntry;
import org.alexkafka.schemas.serde.RecordSerdes;
import org.alexkafka.schemas.topics.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ingest service, for the CLI and for the all-in-one runner: {@link #start()} connects and
 * recovers state from the topics (published ids, class indices); then {@link #scanFolder} scans a
 * tree once, {@link #startWatch} keeps watching it, {@link #startHttp} opens the upload endpoint;
 * {@link #close()} stops everything and flushes.
 */
public final class IngestService implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(IngestService.class);
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration RECOVERY_TIMEOUT = Duration.ofMinutes(30);
  private static final Duration LABEL_READ_TIMEOUT = Duration.ofSeconds(10);

  private final IngestConfig config;
  private final IngestStats stats;
  private final long startedNanos = System.nanoTime();
  private final AtomicInteger scans = new AtomicInteger();
  private IngestPublisher publisher;
  private PublishedIds.Recovery recovery;
  private Ingestor ingestor;
  private LabelRegistry labels;
  private PublishedLabelReader earlierLabels;
  private ExecutorService workers;
  private FolderWatcher watcher;
  private UploadServer http;

  private final Duration connectTimeout;

  public IngestService(IngestConfig config, MeterRegistry registry) {
    this(config, registry, DEFAULT_CONNECT_TIMEOUT);
  }

  public IngestService(IngestConfig config, MeterRegistry registry, Duration connectTimeout) {
    this.config = config;
    this.stats = new IngestStats(registry);
    this.connectTimeout = connectTimeout;
  }

  /** Connects, creates missing topics, and reads back published ids and class indices. */
  public synchronized IngestService start() {
    if (ingestor != null) {
      return this;
    }
    Topics topics = config.kafka().topics();
    Map<String, Object> client = config.kafka().clientProperties();
    try (Admin admin = Admin.create(client)) {
      try {
        admin.describeCluster().nodes().get(connectTimeout.toMillis(), TimeUnit.MILLISECONDS);
      } catch (Exception e) {
        admin.close(Duration.ZERO);
        throw new IllegalStateException("cannot reach Kafka at " + config.kafka().bootstrapServers()
            + " within " + connectTimeout.toSeconds() + " s (is the broker running? --bootstrap-servers / BOOTSTRAP_SERVERS): " + e, e);
      }
      topics.createAll(admin, config.replicationFactor());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while connecting to Kafka", e);
    }
    Map<String, LabelEntry> existing = new LinkedHashMap<>();
    TopicReader.readToEnd(client, topics.labels(), new StringDeserializer(), RecordSerdes.labelEntry(), RECOVERY_TIMEOUT,
        (k, v) -> {
          if (v == null) {
            existing.remove(k);
          } else {
            existing.put(k, v);
          }
        });
    recovery = PublishedIds.recover(client, topics, RECOVERY_TIMEOUT);
    log.info("recovered {} classes from {} and {} published ids ({} refs from {}, {} records from {})", existing.size(),
        topics.labels(), recovery.ids().size(), recovery.refsRead(), topics.imagesIds(), recovery.imagesRead(), topics.images());
    Synsets synsets = config.synsets() == null ? null : Synsets.read(config.synsets());
    publisher = new IngestPublisher(ProducerSettings.forImages(client, config.compression()), ProducerSettings.forRefs(client),
        topics);
    recordMissingRefs(recovery.missing());
    labels = new LabelRegistry(existing.values(), synsets, publisher::sendLabelAndWait);
    ImagePreparer preparer = new ImagePreparer(new ImageDecoder(config.maxPixels()), config.imageSize(), ResampleFilter.TRIANGLE);
    earlierLabels = new PublishedLabelReader(client, topics.images(), LABEL_READ_TIMEOUT);
    ingestor = new Ingestor(preparer, labels, publisher, recovery.images(), earlierLabels, stats);
    workers = Executors.newFixedThreadPool(config.threads(), r -> {
      Thread t = new Thread(r, "ingest-decode");
      t.setDaemon(true);
      return t;
    });
    return this;
  }

  /** Writes the refs recovery found missing, so the next start-up need not read those images again. */
  private void recordMissingRefs(List<ImageRef> missing) {
    if (missing.isEmpty()) {
      return;
    }
    try {
      CompletableFuture.allOf(missing.stream().map(publisher::sendRef).toArray(CompletableFuture[]::new))
          .get(RECOVERY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      log.info("recorded {} refs missing from {}", missing.size(), config.kafka().topics().imagesIds());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while recording refs", e);
    } catch (ExecutionException | TimeoutException e) {
      // not fatal: the ids are known for this run; the next start-up reads those images again
      log.warn("could not record {} missing refs on {}: {}", missing.size(), config.kafka().topics().imagesIds(), e.toString());
    }
  }

  /** What start-up recovery read and found. */
  public PublishedIds.Recovery recovery() {
    requireStarted();
    return recovery;
  }

  /** The per-input entry point (for sources other than folders and uploads). */
  public Ingestor ingestor() {
    requireStarted();
    return ingestor;
  }

  /** Class id to index, as registered so far. */
  public Map<String, Integer> labels() {
    requireStarted();
    return labels.snapshot();
  }

  /** Scans the tree once, in a shuffled order, and returns what this scan did. */
  public IngestSummary scanFolder(Path root) {
    requireStarted();
    long t0 = System.nanoTime();
    IngestSummary before = stats.snapshot(Duration.ZERO);
    FolderListing listing = FolderListing.of(root, config.defaultSplit(), new Random(config.seed() + scans.getAndIncrement()));
    for (Path dir : listing.emptyClassFolders()) {
      log.warn("class folder {} is empty: no images for class {}", dir, dir.getFileName());
    }
    if (listing.files().isEmpty() && listing.misplaced().isEmpty()) {
      log.warn("no files under {}: expected <root>/<class-id>/<image> or <root>/train|val/<class-id>/<image>", root);
    }
    for (Path p : listing.misplaced()) {
      rejectMisplaced(root, p);
    }
    List<CompletableFuture<Void>> acks = new ArrayList<>();
    try (ProgressBar bar = progressBar(listing.files().size())) {
      List<CompletableFuture<IngestResult>> tasks = new ArrayList<>();
      for (SourceFile f : listing.files()) {
        tasks.add(CompletableFuture.supplyAsync(() -> {
          IngestResult r = ingestFile(f);
          if (bar != null) {
            bar.step();
            IngestSummary now = stats.snapshot(Duration.ZERO).minus(before, Duration.ZERO);
            double secs = (System.nanoTime() - t0) / 1e9;
            bar.setExtraMessage(String.format(" %.1f img/s, %d rejected, %d dup", now.published() / secs, now.rejected(), now.duplicates()));
          }
          return r;
        }, workers));
      }
      for (CompletableFuture<IngestResult> t : tasks) {
        acks.add(t.join().acked());
      }
      publisher.flush();
      for (CompletableFuture<Void> a : acks) {
        try {
          a.join();
        } catch (RuntimeException alreadyCounted) {
          // counted as publish-failed by the Ingestor
        }
      }
    }
    IngestSummary summary = stats.snapshot(Duration.ZERO).minus(before, Duration.ofNanos(System.nanoTime() - t0));
    log.info("{} ({})", summary.describe(), root);
    return summary;
  }

  private ProgressBar progressBar(int total) {
    if (!config.progress()) {
      return null;
    }
    return new ProgressBarBuilder().setTaskName("ingest").setInitialMax(total).setUnit(" files", 1)
        .showSpeed().setUpdateIntervalMillis(500).build();
  }

  private IngestResult ingestFile(SourceFile f) {
    String source = f.path().toString();
    byte[] bytes;
    try {
      long size = Files.size(f.path());
      if (size > config.maxUploadBytes()) {
        return ingestor.rejectUnread(source, RejectReason.TOO_LARGE,
            "file of " + size + " bytes is over the limit of " + config.maxUploadBytes() + " bytes");
      }
      bytes = Files.readAllBytes(f.path());
    } catch (IOException | UncheckedIOException e) {
      return ingestor.rejectUnread(source, RejectReason.UNREADABLE, "cannot read the file: " + e);
    }
    return ingestor.ingest(bytes, f.label(), f.split(), source);
  }

  private void rejectMisplaced(Path root, Path file) {
    ingestor.rejectUnread(file.toString(), RejectReason.UNKNOWN_LABEL, "file is not inside a class folder of " + root
        + ": expected <root>/<class-id>/<image> or <root>/train|val/<class-id>/<image>");
  }

  /** Scans the tree once, then keeps publishing files added to it. Returns the first scan's summary. */
  public synchronized IngestSummary startWatch(Path root) {
    requireStarted();
    if (watcher != null) {
      throw new IllegalStateException("already watching");
    }
    FolderWatcher w = new FolderWatcher(root, config.defaultSplit(), config.watchInterval(),
        f -> ingestFile(f), p -> rejectMisplaced(root, p));
    // Files listed now are the first scan's; the watcher takes everything that appears later.
    w.markHandled(FolderListing.of(root, config.defaultSplit(), new Random(0)).files().stream().map(SourceFile::path).toList());
    IngestSummary first = scanFolder(root);
    watcher = w;
    w.start();
    return first;
  }

  public synchronized void stopWatch() {
    if (watcher != null) {
      watcher.close();
      watcher = null;
      publisher.flush();
    }
  }

  /** Opens the upload endpoint (on the address and with the limits of {@code config.upload()}); returns its port. */
  public synchronized int startHttp(int port) {
    requireStarted();
    if (http != null) {
      return http.port();
    }
    UploadSettings upload = config.upload();
    try {
      http = new UploadServer(upload, port, ingestor, new UploadLabels(labels, upload.allowNewClasses()),
          config.maxUploadBytes(), config.defaultSplit(), Math.max(2, config.threads()));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open the upload endpoint on " + upload.bindAddress() + ":" + port + ": "
          + e.getMessage(), e);
    }
    http.start();
    return http.port();
  }

  /** Where the upload endpoint listens; empty when it is not open. */
  public synchronized Optional<InetSocketAddress> httpAddress() {
    return http == null ? Optional.empty() : Optional.of(http.address());
  }

  public synchronized void stopHttp() {
    if (http != null) {
      http.close();
      http = null;
    }
  }

  /** Everything this service did since it was created. */
  public IngestSummary summary() {
    return stats.snapshot(Duration.ofNanos(System.nanoTime() - startedNanos));
  }

  private void requireStarted() {
    if (ingestor == null) {
      throw new IllegalStateException("call start() first");
    }
  }

  @Override
  public synchronized void close() {
    stopHttp();
    stopWatch();
    if (workers != null) {
      workers.shutdown();
      try {
        workers.awaitTermination(1, TimeUnit.MINUTES);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (earlierLabels != null) {
      earlierLabels.close();
    }
    if (publisher != null) {
      publisher.close(); // flushes: everything accepted is on Kafka or counted as failed
    }
  }
}
