package org.alexkafka.pipeline.run;

import org.alexkafka.trainer.engine.EngineKind;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The all-in-one run, in one typed record (built by {@link RunCommand}).
 *
 * @param images folder in the ImageNet layout, or null: generate the synthetic demo set
 * @param workDir where the broker's data, checkpoints, metrics and report go
 * @param imageSize side the images are ingested at (the paper: 256)
 * @param cropSize side of the training crops (the paper: 224)
 * @param variants training variants per image
 * @param trainTime how long to train
 * @param batchSize training batch
 * @param devices data-parallel workers
 * @param watch keep watching {@code images} and training as new images arrive, until stopped
 * @param seed seed of the demo set, the augmentation and the training
 * @param epochs most epochs to train; 0 = the run's default ({@link #DEFAULT_EPOCHS}: in practice the time limit ends it)
 * @param engine the trainer's engine (on the CPU)
 */
public record RunConfig(Path images, Path workDir, int imageSize, int cropSize, int variants, Duration trainTime,
                        int batchSize, int devices, boolean watch, long seed, int epochs, EngineKind engine) {

  public static final int DEFAULT_EPOCHS = 1000;

  public RunConfig(Path images, Path workDir, int imageSize, int cropSize, int variants, Duration trainTime,
                   int batchSize, int devices, boolean watch, long seed) {
    this(images, workDir, imageSize, cropSize, variants, trainTime, batchSize, devices, watch, seed, 0, EngineKind.DL4J);
  }

  public RunConfig {
    if (engine == null) {
      engine = EngineKind.DL4J;
    }
    if (cropSize > imageSize) {
      throw new IllegalArgumentException("--crop-size " + cropSize + " exceeds --image-size " + imageSize);
    }
    if (watch && images == null) {
      throw new IllegalArgumentException("--watch needs --images: a folder to watch");
    }
    if (epochs < 0) {
      throw new IllegalArgumentException("epochs must be >= 0 (0 = default), got " + epochs);
    }
  }
}
