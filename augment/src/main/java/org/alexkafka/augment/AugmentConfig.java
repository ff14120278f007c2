package org.alexkafka.augment;

import java.nio.file.Path;
import java.time.Duration;
import org.alexkafka.augment.lighting.LightingMagnitude;
import org.alexkafka.schemas.config.KafkaConnection;

/**
 * Everything the augment service needs, in one typed record (built by
 * {@link org.alexkafka.augment.cli.AugmentCommand} or by the all-in-one runner).
 *
 * @param seed                run seed: with the image id and variant number it fixes crop, flip and α
 * @param variantsPerImage    K, training variants emitted per training image
 * @param cropSize            crop side (224 for 256×256 images)
 * @param alphaStd            standard deviation of the lighting αi (0.1 in the paper)
 * @param lightingMagnitude   what λ means in the lighting formula (see {@link LightingMagnitude})
 * @param processingGuarantee Streams' guarantee: exactly once (the default) or at least once
 * @param commitInterval      Streams commit interval (also how often the statistics sums are persisted)
 * @param statsInterval       how often each task publishes its statistics partial (coalesces updates)
 * @param labelWait           how long an image waits for its label to appear before it is rejected
 * @param instanceId          static group membership id of this instance (unique per instance, e.g.
 *                            the host name), or empty for dynamic membership. With one, a restart
 *                            hands the partitions back at once instead of after the session timeout
 */
public record AugmentConfig(
    KafkaConnection kafka,
    String applicationId,
    Path stateDir,
    int threads,
    long seed,
    int variantsPerImage,
    int cropSize,
    double alphaStd,
    LightingMagnitude lightingMagnitude,
    ProcessingGuarantee processingGuarantee,
    Duration commitInterval,
    Duration statsInterval,
    Duration labelWait,
    String instanceId) {

  // The defaults, defined once: AugmentCommand's options name them.
  public static final String DEFAULT_APPLICATION_ID = "alexkafka-augment";
  public static final String DEFAULT_STATE_DIR = "state/augment";
  public static final int DEFAULT_THREADS = 1;
  public static final long DEFAULT_SEED = 2012L;
  public static final int DEFAULT_VARIANTS = 8;
  /** The paper's crops of 256 x 256 images. */
  public static final int DEFAULT_CROP_SIZE = 224;
  /** The paper's standard deviation of the lighting alphas. */
  public static final double DEFAULT_ALPHA_STD = 0.1;
  public static final String DEFAULT_LIGHTING_MAGNITUDE = "UNIT_RANGE";
  public static final String DEFAULT_PROCESSING_GUARANTEE = "exactly_once_v2";
  public static final long DEFAULT_COMMIT_INTERVAL_MS = 1000;
  public static final long DEFAULT_STATS_INTERVAL_MS = 5000;
  public static final long DEFAULT_LABEL_WAIT_MS = 30_000;

  public AugmentConfig {
    instanceId = instanceId == null ? "" : instanceId.strip();
    if (variantsPerImage < 1) {
      throw new IllegalArgumentException("--variants must be at least 1, got " + variantsPerImage);
    }
    if (cropSize < 1) {
      throw new IllegalArgumentException("--crop-size must be positive, got " + cropSize);
    }
    if (threads < 1) {
      throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
    }
    if (processingGuarantee == null) {
      throw new IllegalArgumentException("--processing-guarantee must be exactly_once_v2 or at_least_once");
    }
  }

  /** Paper settings (224 crops, α std 0.1), the chosen defaults, for a given cluster and state dir. */
  public static AugmentConfig defaults(KafkaConnection kafka, Path stateDir) {
    return new AugmentConfig(kafka, DEFAULT_APPLICATION_ID, stateDir, DEFAULT_THREADS, DEFAULT_SEED, DEFAULT_VARIANTS,
        DEFAULT_CROP_SIZE, DEFAULT_ALPHA_STD, LightingMagnitude.valueOf(DEFAULT_LIGHTING_MAGNITUDE),
        ProcessingGuarantee.valueOf(DEFAULT_PROCESSING_GUARANTEE.toUpperCase(java.util.Locale.ROOT)),
        Duration.ofMillis(DEFAULT_COMMIT_INTERVAL_MS), Duration.ofMillis(DEFAULT_STATS_INTERVAL_MS),
        Duration.ofMillis(DEFAULT_LABEL_WAIT_MS), "");
  }

  public AugmentConfig withApplicationId(String id) {
    return new AugmentConfig(kafka, id, stateDir, threads, seed, variantsPerImage, cropSize, alphaStd,
        lightingMagnitude, processingGuarantee, commitInterval, statsInterval, labelWait, instanceId);
  }

  public AugmentConfig withCropSize(int size) {
    return new AugmentConfig(kafka, applicationId, stateDir, threads, seed, variantsPerImage, size, alphaStd,
        lightingMagnitude, processingGuarantee, commitInterval, statsInterval, labelWait, instanceId);
  }

  public AugmentConfig withVariants(int k) {
    return new AugmentConfig(kafka, applicationId, stateDir, threads, seed, k, cropSize, alphaStd,
        lightingMagnitude, processingGuarantee, commitInterval, statsInterval, labelWait, instanceId);
  }

  public AugmentConfig withThreads(int n) {
    return new AugmentConfig(kafka, applicationId, stateDir, n, seed, variantsPerImage, cropSize, alphaStd,
        lightingMagnitude, processingGuarantee, commitInterval, statsInterval, labelWait, instanceId);
  }

  public AugmentConfig withLighting(double std, LightingMagnitude magnitude) {
    return new AugmentConfig(kafka, applicationId, stateDir, threads, seed, variantsPerImage, cropSize, std,
        magnitude, processingGuarantee, commitInterval, statsInterval, labelWait, instanceId);
  }

  public AugmentConfig withProcessingGuarantee(ProcessingGuarantee guarantee) {
    return new AugmentConfig(kafka, applicationId, stateDir, threads, seed, variantsPerImage, cropSize, alphaStd,
        lightingMagnitude, guarantee, commitInterval, statsInterval, labelWait, instanceId);
  }

  public AugmentConfig withInstanceId(String id) {
    return new AugmentConfig(kafka, applicationId, stateDir, threads, seed, variantsPerImage, cropSize, alphaStd,
        lightingMagnitude, processingGuarantee, commitInterval, statsInterval, labelWait, id);
  }

  public AugmentConfig withStateDir(Path dir) {
    return new AugmentConfig(kafka, applicationId, dir, threads, seed, variantsPerImage, cropSize, alphaStd,
        lightingMagnitude, processingGuarantee, commitInterval, statsInterval, labelWait, instanceId);
  }

  public AugmentConfig withSeed(long runSeed) {
    return new AugmentConfig(kafka, applicationId, stateDir, threads, runSeed, variantsPerImage, cropSize, alphaStd,
        lightingMagnitude, processingGuarantee, commitInterval, statsInterval, labelWait, instanceId);
  }

  public AugmentConfig withIntervals(Duration commit, Duration stats, Duration labels) {
    return new AugmentConfig(kafka, applicationId, stateDir, threads, seed, variantsPerImage, cropSize, alphaStd,
        lightingMagnitude, processingGuarantee, commit, stats, labels, instanceId);
  }
}
