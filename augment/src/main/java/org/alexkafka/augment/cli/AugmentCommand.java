package org.alexkafka.augment.cli;

import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.alexkafka.augment.AugmentConfig;
import org.alexkafka.augment.AugmentService;
import org.alexkafka.augment.lighting.LightingMagnitude;
import org.alexkafka.schemas.config.KafkaConnection;
import org.alexkafka.schemas.config.KafkaOptions;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code augment}: runs the augmentation Streams app until interrupted. */
@Command(name = "augment", mixinStandardHelpOptions = true,
    description = "Kafka Streams app: images -> samples.train (K random crops, flips, PCA lighting), "
        + "samples.val (10 test views), stats (mean image, RGB PCA); bad records -> images.rejected.")
public class AugmentCommand implements Callable<Integer> {

  @Mixin
  KafkaOptions kafka = new KafkaOptions();

  @Option(names = "--application-id", defaultValue = "${env:AUGMENT_APPLICATION_ID:-alexkafka-augment}",
      description = "Streams application.id; instances with the same id share the partitions (env AUGMENT_APPLICATION_ID, default ${DEFAULT-VALUE}).")
  String applicationId;

  @Option(names = "--state-dir", defaultValue = "${env:AUGMENT_STATE_DIR:-state/augment}",
      description = "Local state directory (env AUGMENT_STATE_DIR, default ${DEFAULT-VALUE}).")
  Path stateDir;

  @Option(names = "--threads", defaultValue = "${env:AUGMENT_THREADS:-1}",
      description = "Stream threads in this instance (env AUGMENT_THREADS, default ${DEFAULT-VALUE}).")
  int threads;

  @Option(names = "--seed", defaultValue = "${env:AUGMENT_SEED:-2012}",
      description = "Run seed; with image id and variant it fixes crop, flip and lighting α (env AUGMENT_SEED, default ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--variants", defaultValue = "${env:AUGMENT_VARIANTS:-8}",
      description = "Training variants (crop+flip+lighting) per training image (env AUGMENT_VARIANTS, default ${DEFAULT-VALUE}).")
  int variants;

  @Option(names = "--crop-size", defaultValue = "${env:AUGMENT_CROP_SIZE:-224}",
      description = "Crop side in pixels (env AUGMENT_CROP_SIZE, default ${DEFAULT-VALUE}).")
  int cropSize;

  @Option(names = "--alpha-std", defaultValue = "${env:AUGMENT_ALPHA_STD:-0.1}",
      description = "Standard deviation of the lighting alphas (env AUGMENT_ALPHA_STD, default ${DEFAULT-VALUE}).")
  double alphaStd;

  @Option(names = "--lighting-magnitude", defaultValue = "${env:AUGMENT_LIGHTING_MAGNITUDE:-UNIT_RANGE}",
      description = "Scale the lighting formula is read on: UNIT_RANGE (eigenvalues of 0..1 pixels, the common reading), STDDEV (sqrt of the eigenvalue) or PIXEL_RANGE (eigenvalues of 0..255 pixels) (env AUGMENT_LIGHTING_MAGNITUDE, default ${DEFAULT-VALUE}).")
  LightingMagnitude lightingMagnitude;

  @Option(names = "--processing-guarantee", defaultValue = "${env:AUGMENT_PROCESSING_GUARANTEE:-exactly_once_v2}",
      description = "exactly_once_v2 or at_least_once (env AUGMENT_PROCESSING_GUARANTEE, default ${DEFAULT-VALUE}).")
  String processingGuarantee;

  @Option(names = "--commit-interval-ms", defaultValue = "${env:AUGMENT_COMMIT_INTERVAL_MS:-1000}",
      description = "Streams commit interval (env AUGMENT_COMMIT_INTERVAL_MS, default ${DEFAULT-VALUE}).")
  long commitIntervalMs;

  @Option(names = "--stats-interval-ms", defaultValue = "${env:AUGMENT_STATS_INTERVAL_MS:-5000}",
      description = "How often the statistics are republished (env AUGMENT_STATS_INTERVAL_MS, default ${DEFAULT-VALUE}).")
  long statsIntervalMs;

  @Option(names = "--label-wait-ms", defaultValue = "${env:AUGMENT_LABEL_WAIT_MS:-30000}",
      description = "How long an image waits for its label before it is rejected (env AUGMENT_LABEL_WAIT_MS, default ${DEFAULT-VALUE}).")
  long labelWaitMs;

  @Option(names = "--instance-id", defaultValue = "${env:AUGMENT_INSTANCE_ID:-}",
      description = "Static group membership id, unique per instance (e.g. the host name); empty = dynamic (env AUGMENT_INSTANCE_ID).")
  String instanceId;

  @Option(names = "--create-topics", defaultValue = "${env:AUGMENT_CREATE_TOPICS:-true}", negatable = true,
      description = "Create missing topics at start (env AUGMENT_CREATE_TOPICS, default ${DEFAULT-VALUE}).")
  boolean createTopics;

  @Option(names = "--replication-factor", defaultValue = "${env:REPLICATION_FACTOR:-1}",
      description = "Replication factor for created topics (env REPLICATION_FACTOR, default ${DEFAULT-VALUE}).")
  short replicationFactor;

  // Micrometer's global registry: the CLI adds a Prometheus registry to it when --metrics-port is set.
  private MeterRegistry registry = io.micrometer.core.instrument.Metrics.globalRegistry;

  /** The registry the service records into (the CLI wiring may pass a Prometheus one). */
  public AugmentCommand withRegistry(MeterRegistry registry) {
    this.registry = registry;
    return this;
  }

  public AugmentConfig toConfig() {
    KafkaConnection connection = kafka.toConnection();
    return new AugmentConfig(connection, applicationId, stateDir, threads, seed, variants, cropSize, alphaStd,
        lightingMagnitude, processingGuarantee, Duration.ofMillis(commitIntervalMs), Duration.ofMillis(statsIntervalMs),
        Duration.ofMillis(labelWaitMs), instanceId);
  }

  @Override
  public Integer call() throws Exception {
    AugmentConfig config = toConfig();
    if (createTopics) {
      try (Admin admin = Admin.create(config.kafka().clientProperties())) {
        config.kafka().topics().createAll(admin, replicationFactor);
      }
    }
    AugmentService service = new AugmentService(config, registry);
    CountDownLatch closed = new CountDownLatch(1);
    // Close (commit, flush, leave the group) on Ctrl-C / SIGTERM before the JVM exits.
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      service.close();
      closed.countDown();
    }, "augment-shutdown"));
    service.start();
    closed.await();
    return 0;
  }
}
