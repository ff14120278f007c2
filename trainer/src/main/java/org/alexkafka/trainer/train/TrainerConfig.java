package org.alexkafka.trainer.train;

import org.alexkafka.trainer.data.BatchForm;
import org.alexkafka.trainer.data.ShuffledEpoch;
import org.alexkafka.trainer.engine.EngineKind;
import org.alexkafka.trainer.model.AlexNetSpec;

/**
 * Everything one training run is configured with. Saved inside every checkpoint. Built with
 * {@link #builder} (every field starts at its default, defined once below and used by
 * {@code TrainCommand}'s options too) or changed with {@link #toBuilder}.
 *
 * @param profile the paper's layer widths, or the same network narrower
 * @param classes output classes
 * @param inputSize side of the crops the samples carry (224 for the paper profile; --crop-size)
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
 * @param batchForm how batches reach the engine: float features, or 8-bit crops it converts itself
 */
public record TrainerConfig(Profile profile, int classes, int inputSize, int towers, int batchSize, int epochs,
                            boolean fromBeginning, boolean follow, String checkpointDir, int checkpointEvery,
                            int keepCheckpoints, int shuffleBuffer, int shuffleBlock, LearningRateSchedule.Settings lr,
                            int devices, long seed, String runDir, int logEvery,
                            boolean evalEachEpoch, long maxIterations, long maxSeconds, long statsTimeoutSeconds,
                            EngineKind engine, String device, BatchForm batchForm) {

  // The defaults: the paper's settings. Constants, so that the command-line options can name them.
  public static final String DEFAULT_PROFILE = "paper";
  public static final int DEFAULT_CLASSES = 1000;
  public static final int DEFAULT_CROP_SIZE = 224;
  public static final int DEFAULT_TOWERS = 1;
  public static final int DEFAULT_BATCH = 128;
  public static final int DEFAULT_EPOCHS = 90;
  public static final String DEFAULT_CHECKPOINT_DIR = "checkpoints";
  public static final int DEFAULT_CHECKPOINT_EVERY = 1000;
  public static final int DEFAULT_KEEP_CHECKPOINTS = 3;
  /** About 150 KB a sample at 224 crops: 150 MB. */
  public static final int DEFAULT_SHUFFLE_BUFFER = 1024;
  public static final int DEFAULT_SHUFFLE_BLOCK = ShuffledEpoch.DEFAULT_BLOCK;
  public static final int DEFAULT_DEVICES = 1;
  public static final long DEFAULT_SEED = 42;
  public static final String DEFAULT_RUN_DIR = "runs/train";
  public static final int DEFAULT_LOG_EVERY = 20;
  public static final boolean DEFAULT_EVAL_EACH_EPOCH = true;
  /** The mean image comes from augment's statistics, which need the images to have gone through it. */
  public static final long DEFAULT_STATS_TIMEOUT_SECONDS = 300;
  public static final String DEFAULT_ENGINE = "dl4j";
  public static final String DEFAULT_DEVICE = "cpu";
  public static final String DEFAULT_BATCH_FORM = "auto";

  public TrainerConfig {
    if (profile == null) {
      throw new IllegalArgumentException("profile must be paper or small");
    }
    if (shuffleBuffer < 1 || shuffleBlock < 1) {
      throw new IllegalArgumentException("shuffle buffer and block need at least 1 sample, got " + shuffleBuffer + " and "
          + shuffleBlock);
    }
    if (engine == null) {
      engine = EngineKind.DL4J; // configurations saved before the engine choice
    }
    if (batchForm == null) {
      batchForm = BatchForm.AUTO; // configurations saved before the choice
    }
    if (device == null || device.isBlank()) {
      device = DEFAULT_DEVICE;
    }
    if (!device.equals("cpu") && !device.matches("cuda(:\\d+)?")) {
      throw new IllegalArgumentException("device must be cpu, cuda or cuda:N, got " + device);
    }
    if (batchSize < 1 || devices < 1 || batchSize < devices) {
      throw new IllegalArgumentException("need batch >= devices >= 1, got batch " + batchSize + ", devices " + devices);
    }
  }

  /** The paper's settings, checkpoints and metrics in the given directories. */
  public static TrainerConfig defaults(String checkpointDir, String runDir) {
    return builder().checkpointDir(checkpointDir).runDir(runDir).build();
  }

  /** Every field at its default. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The one-JVM demo's recipe (what {@code run} trains): the small profile, checkpoints every 200
   * iterations (2 kept), a 2,048-sample shuffle buffer, patience 3, a log line every 10 iterations,
   * and 2 minutes for the statistics (augment is starting beside it).
   */
  public static Builder smallPreset() {
    return builder().profile(Profile.SMALL).checkpointEvery(200).keepCheckpoints(2).shuffleBuffer(2048)
        .lr(LearningRateSchedule.Settings.paper().withPatience(3)).logEvery(10).statsTimeoutSeconds(120);
  }

  public Builder toBuilder() {
    return new Builder(this);
  }

  public AlexNetSpec spec() {
    AlexNetSpec base = profile == Profile.PAPER
        ? AlexNetSpec.paper().withClasses(classes).withInputSize(inputSize).withSeed(seed)
        : AlexNetSpec.small(classes, inputSize).withSeed(seed);
    return base.withTowers(towers);
  }

  public TrainerConfig withMaxIterations(long n) {
    return toBuilder().maxIterations(n).build();
  }

  public TrainerConfig withFromBeginning(boolean b) {
    return toBuilder().fromBeginning(b).build();
  }

  public TrainerConfig withDirs(String checkpoints, String run) {
    return toBuilder().checkpointDir(checkpoints).runDir(run).build();
  }

  public TrainerConfig withEngine(EngineKind kind, String onDevice) {
    return toBuilder().engine(kind).device(onDevice).build();
  }

  public TrainerConfig withDevices(int n) {
    return toBuilder().devices(n).build();
  }

  /** A configuration by name, field by field; unset fields keep their defaults. */
  public static final class Builder {
    private Profile profile = Profile.parse(DEFAULT_PROFILE);
    private int classes = DEFAULT_CLASSES;
    private int inputSize = DEFAULT_CROP_SIZE;
    private int towers = DEFAULT_TOWERS;
    private int batchSize = DEFAULT_BATCH;
    private int epochs = DEFAULT_EPOCHS;
    private boolean fromBeginning;
    private boolean follow;
    private String checkpointDir = DEFAULT_CHECKPOINT_DIR;
    private int checkpointEvery = DEFAULT_CHECKPOINT_EVERY;
    private int keepCheckpoints = DEFAULT_KEEP_CHECKPOINTS;
    private int shuffleBuffer = DEFAULT_SHUFFLE_BUFFER;
    private int shuffleBlock = DEFAULT_SHUFFLE_BLOCK;
    private LearningRateSchedule.Settings lr = LearningRateSchedule.Settings.paper();
    private int devices = DEFAULT_DEVICES;
    private long seed = DEFAULT_SEED;
    private String runDir = DEFAULT_RUN_DIR;
    private int logEvery = DEFAULT_LOG_EVERY;
    private boolean evalEachEpoch = DEFAULT_EVAL_EACH_EPOCH;
    private long maxIterations;
    private long maxSeconds;
    private long statsTimeoutSeconds = DEFAULT_STATS_TIMEOUT_SECONDS;
    private EngineKind engine = EngineKind.parse(DEFAULT_ENGINE);
    private String device = DEFAULT_DEVICE;
    private BatchForm batchForm = BatchForm.parse(DEFAULT_BATCH_FORM);

    private Builder() {}

    private Builder(TrainerConfig c) {
      profile = c.profile; classes = c.classes; inputSize = c.inputSize; towers = c.towers; batchSize = c.batchSize;
      epochs = c.epochs; fromBeginning = c.fromBeginning; follow = c.follow; checkpointDir = c.checkpointDir;
      checkpointEvery = c.checkpointEvery; keepCheckpoints = c.keepCheckpoints; shuffleBuffer = c.shuffleBuffer;
      shuffleBlock = c.shuffleBlock; lr = c.lr; devices = c.devices; seed = c.seed; runDir = c.runDir;
      logEvery = c.logEvery; evalEachEpoch = c.evalEachEpoch; maxIterations = c.maxIterations;
      maxSeconds = c.maxSeconds; statsTimeoutSeconds = c.statsTimeoutSeconds; engine = c.engine; device = c.device;
      batchForm = c.batchForm;
    }

    public Builder profile(Profile v) { profile = v; return this; }
    public Builder classes(int v) { classes = v; return this; }
    /** The side of the crops the samples carry: augment's --crop-size. */
    public Builder cropSize(int v) { inputSize = v; return this; }
    public Builder towers(int v) { towers = v; return this; }
    public Builder batchSize(int v) { batchSize = v; return this; }
    public Builder epochs(int v) { epochs = v; return this; }
    public Builder fromBeginning(boolean v) { fromBeginning = v; return this; }
    public Builder follow(boolean v) { follow = v; return this; }
    public Builder checkpointDir(String v) { checkpointDir = v; return this; }
    public Builder checkpointEvery(int v) { checkpointEvery = v; return this; }
    public Builder keepCheckpoints(int v) { keepCheckpoints = v; return this; }
    public Builder shuffleBuffer(int v) { shuffleBuffer = v; return this; }
    public Builder shuffleBlock(int v) { shuffleBlock = v; return this; }
    public Builder lr(LearningRateSchedule.Settings v) { lr = v; return this; }
    public Builder devices(int v) { devices = v; return this; }
    public Builder seed(long v) { seed = v; return this; }
    public Builder runDir(String v) { runDir = v; return this; }
    public Builder logEvery(int v) { logEvery = v; return this; }
    public Builder evalEachEpoch(boolean v) { evalEachEpoch = v; return this; }
    public Builder maxIterations(long v) { maxIterations = v; return this; }
    public Builder maxSeconds(long v) { maxSeconds = v; return this; }
    public Builder statsTimeoutSeconds(long v) { statsTimeoutSeconds = v; return this; }
    public Builder engine(EngineKind v) { engine = v; return this; }
    public Builder device(String v) { device = v; return this; }
    public Builder batchForm(BatchForm v) { batchForm = v; return this; }

    public TrainerConfig build() {
      return new TrainerConfig(profile, classes, inputSize, towers, batchSize, epochs, fromBeginning, follow, checkpointDir,
          checkpointEvery, keepCheckpoints, shuffleBuffer, shuffleBlock, lr, devices, seed, runDir, logEvery, evalEachEpoch,
          maxIterations, maxSeconds, statsTimeoutSeconds, engine, device, batchForm);
    }
  }
}
