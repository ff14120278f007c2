package org.alexkafka.trainer.train;

import org.alexkafka.trainer.engine.EngineKind;
import org.alexkafka.trainer.data.ShuffledEpoch;
import org.alexkafka.trainer.model.AlexNetSpec;

/**
 * Everything one training run is configured with (built by {@code TrainCommand} or by the
 * all-in-one runner). Saved inside every checkpoint.
 *
 * @param profile "paper" (the paper's layer widths) or "small" (the same network, narrower)
 * @param classes output classes
 * @param inputSize side of the crops the samples carry (224 for the paper profile)
 * @param towers 1, or 2 for the paper's two-GPU grouping
 * @param batchSize GLOBAL batch (the paper's 128): with N devices each takes batchSize / N
 * @param epochs epochs to train (ignored in follow mode)
 * @param fromBeginning ignore existing checkpoints: a fresh network from offset 0
 * @param follow keep training without end: epoch after epoch, waiting for samples when there are none
 * @param checkpointDir where checkpoints go (and are resumed from)
 * @param checkpointEvery iterations between checkpoints (0: only at epoch ends and at the end)
 * @param keepCheckpoints how many checkpoints to keep
 * @param shuffleBuffer samples held by the shuffle buffer
 * @param shuffleBlock consecutive offsets of a partition read as one block of the epoch's shuffle
 * @param lr the learning-rate schedule: initial ε, plateau rule (patience, threshold, reductions
 *     before the run ends) or steps
 * @param devices data-parallel workers (GPUs with the CUDA backend; threads on CPU)
 * @param seed seed of the initialisation, the shuffle and dropout
 * @param runDir where the metrics file goes
 * @param logEvery iterations between log lines / metrics rows
 * @param evalEachEpoch evaluate on samples.val at every epoch end
 * @param maxIterations stop after this many iterations in total (0: no limit)
 * @param maxSeconds stop after this much wall time (0: no limit)
 * @param statsTimeoutSeconds how long to wait for the mean image on the stats topic
 * @param engine the deep-learning engine (dl4j or torch); checkpoints are engine-neutral
 * @param device where the engine computes: "cpu", "cuda" or "cuda:N" (torch only)
 */
public record TrainerConfig(String profile, int classes, int inputSize, int towers, int batchSize, int epochs,
                            boolean fromBeginning, boolean follow, String checkpointDir, int checkpointEvery,
                            int keepCheckpoints, int shuffleBuffer, int shuffleBlock, LearningRateSchedule.Settings lr,
                            int devices, long seed, String runDir, int logEvery,
                            boolean evalEachEpoch, long maxIterations, long maxSeconds, long statsTimeoutSeconds,
                            EngineKind engine, String device) {

  public TrainerConfig {
    if (!profile.equals("paper") && !profile.equals("small")) {
      throw new IllegalArgumentException("profile must be paper or small, got " + profile);
    }
    if (shuffleBuffer < 1 || shuffleBlock < 1) {
      throw new IllegalArgumentException("shuffle buffer and block need at least 1 sample, got " + shuffleBuffer + " and "
          + shuffleBlock);
    }
    if (engine == null) {
      engine = EngineKind.DL4J; // configurations saved before the engine choice
    }
    if (device == null || device.isBlank()) {
      device = "cpu";
    }
    if (!device.equals("cpu") && !device.matches("cuda(:\\d+)?")) {
      throw new IllegalArgumentException("device must be cpu, cuda or cuda:N, got " + device);
    }
    if (batchSize < 1 || devices < 1 || batchSize < devices) {
      throw new IllegalArgumentException("need batch >= devices >= 1, got batch " + batchSize + ", devices " + devices);
    }
  }

  /** The paper's settings; Kafka and paths left to the caller. */
  public static TrainerConfig defaults(String checkpointDir, String runDir) {
    return new TrainerConfig("paper", 1000, 224, 1, 128, 90, false, false, checkpointDir, 1000, 3, 1024,
        ShuffledEpoch.DEFAULT_BLOCK, LearningRateSchedule.Settings.paper(), 1, 42, runDir, 20, true, 0, 0, 300, EngineKind.DL4J, "cpu");
  }

  public AlexNetSpec spec() {
    AlexNetSpec base = profile.equals("paper")
        ? AlexNetSpec.paper().withClasses(classes).withInputSize(inputSize).withSeed(seed)
        : AlexNetSpec.small(classes, inputSize).withSeed(seed);
    return base.withTowers(towers);
  }

  public TrainerConfig withMaxIterations(long n) {
    return new TrainerConfig(profile, classes, inputSize, towers, batchSize, epochs, fromBeginning, follow, checkpointDir,
        checkpointEvery, keepCheckpoints, shuffleBuffer, shuffleBlock, lr, devices, seed, runDir,
        logEvery, evalEachEpoch, n, maxSeconds, statsTimeoutSeconds, engine, device);
  }

  public TrainerConfig withFromBeginning(boolean b) {
    return new TrainerConfig(profile, classes, inputSize, towers, batchSize, epochs, b, follow, checkpointDir,
        checkpointEvery, keepCheckpoints, shuffleBuffer, shuffleBlock, lr, devices, seed, runDir,
        logEvery, evalEachEpoch, maxIterations, maxSeconds, statsTimeoutSeconds, engine, device);
  }

  public TrainerConfig withDirs(String checkpoints, String run) {
    return new TrainerConfig(profile, classes, inputSize, towers, batchSize, epochs, fromBeginning, follow, checkpoints,
        checkpointEvery, keepCheckpoints, shuffleBuffer, shuffleBlock, lr, devices, seed, run,
        logEvery, evalEachEpoch, maxIterations, maxSeconds, statsTimeoutSeconds, engine, device);
  }

  public TrainerConfig withEngine(EngineKind kind, String onDevice) {
    return new TrainerConfig(profile, classes, inputSize, towers, batchSize, epochs, fromBeginning, follow, checkpointDir,
        checkpointEvery, keepCheckpoints, shuffleBuffer, shuffleBlock, lr, devices, seed, runDir,
        logEvery, evalEachEpoch, maxIterations, maxSeconds, statsTimeoutSeconds, kind, onDevice);
  }

  public TrainerConfig withDevices(int n) {
    return new TrainerConfig(profile, classes, inputSize, towers, batchSize, epochs, fromBeginning, follow, checkpointDir,
        checkpointEvery, keepCheckpoints, shuffleBuffer, shuffleBlock, lr, n, seed, runDir,
        logEvery, evalEachEpoch, maxIterations, maxSeconds, statsTimeoutSeconds, engine, device);
  }
}
