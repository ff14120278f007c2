package org.alexkafka.augment.cli;

import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.alexkafka.augment.AugmentConfig;
import org.alexkafka.augment.ProcessingGuarantee;
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

  @Option(names = "--application-id", defaultValue = "${env:AUGMENT_APPLICATION_ID:-" + AugmentConfig.DEFAULT_APPLICATION_ID + "}",
      description = "Streams application.id; instances with the same id share the partitions (env AUGMENT_APPLICATION_ID, default ${DEFAULT-VALUE}).")
  String applicationId;

  @Option(names = "--state-dir", defaultValue = "${env:AUGMENT_STATE_DIR:-" + AugmentConfig.DEFAULT_STATE_DIR + "}",
      description = "Local state directory (env AUGMENT_STATE_DIR, default ${DEFAULT-VALUE}).")
  Path stateDir;

  @Option(names = "--threads", defaultValue = "${env:AUGMENT_THREADS:-" + AugmentConfig.DEFAULT_THREADS + "}",
      description = "Stream threads in this instance (env AUGMENT_THREADS, default ${DEFAULT-VALUE}).")
  int threads;

  @Option(names = "--seed", defaultValue = "${env:AUGMENT_SEED:-" + AugmentConfig.DEFAULT_SEED + "}",
      description = "Run seed; with image id and variant it fixes crop, flip and lighting α (env AUGMENT_SEED, default ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--variants", defaultValue = "${env:AUGMENT_VARIANTS:-" + AugmentConfig.DEFAULT_VARIANTS + "}",
      description = "Training variants (crop+flip+lighting) per training image (env AUGMENT_VARIANTS, default ${DEFAULT-VALUE}).")
  int variants;

  @Option(names = "--crop-size", defaultValue = "${env:AUGMENT_CROP_SIZE:-" + AugmentConfig.DEFAULT_CROP_SIZE + "}",
      description = "Crop side in pixels (env AUGMENT_CROP_SIZE, default ${DEFAULT-VALUE}).")
  int cropSize;

  @Option(names = "--alpha-std", defaultValue = "${env:AUGMENT_ALPHA_STD:-" + AugmentConfig.DEFAULT_ALPHA_STD + "}",
      description = "Standard deviation of the lighting alphas (env AUGMENT_ALPHA_STD, default ${DEFAULT-VALUE}).")
  double alphaStd;

  @Option(names = "--lighting-magnitude", defaultValue = "${env:AUGMENT_LIGHTING_MAGNITUDE:-" + AugmentConfig.DEFAULT_LIGHTING_MAGNITUDE + "}",
      description = "Scale the lighting formula is read on: UNIT_RANGE (eigenvalues of 0..1 pixels, the common reading), STDDEV (sqrt of the eigenvalue) or PIXEL_RANGE (eigenvalues of 0..255 pixels) (env AUGMENT_LIGHTING_MAGNITUDE, default ${DEFAULT-VALUE}).")
  LightingMagnitude lightingMagnitude;

  @Option(names = "--processing-guarantee", defaultValue = "${env:AUGMENT_PROCESSING_GUARANTEE:-" + AugmentConfig.DEFAULT_PROCESSING_GUARANTEE + "}",
      description = "${COMPLETION-CANDIDATES} (env AUGMENT_PROCESSING_GUARANTEE, default ${DEFAULT-VALUE}).")
  ProcessingGuarantee processingGuarantee;

  @Option(names = "--commit-interval-ms", defaultValue = "${env:AUGMENT_COMMIT_INTERVAL_MS:-" + AugmentConfig.DEFAULT_COMMIT_INTERVAL_MS + "}",
      description = "Streams commit interval (env AUGMENT_COMMIT_INTERVAL_MS, default ${DEFAULT-VALUE}).")
  long commitIntervalMs;

  @Option(names = "--stats-interval-ms", defaultValue = "${env:AUGMENT_STATS_INTERVAL_MS:-" + AugmentConfig.DEFAULT_STATS_INTERVAL_MS + "}",
      description = "How often the statistics are republished (env AUGMENT_STATS_INTERVAL_MS, default ${DEFAULT-VALUE}).")
  long statsIntervalMs;

  @Option(names = "--label-wait-ms", defaultValue = "${env:AUGMENT_LABEL_WAIT_MS:-" + AugmentConfig.DEFAULT_LABEL_WAIT_MS + "}",
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
    return AugmentConfig.defaults(connection, stateDir).withApplicationId(applicationId).withThreads(threads)
        .withSeed(seed).withVariants(variants).withCropSize(cropSize).withLighting(alphaStd, lightingMagnitude)
        .withProcessingGuarantee(processingGuarantee)
        .withIntervals(Duration.ofMillis(commitIntervalMs), Duration.ofMillis(statsIntervalMs), Duration.ofMillis(labelWaitMs))
        .withInstanceId(instanceId);
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
