package org.alexkafka.trainer.cli;

import org.alexkafka.trainer.data.BatchForm;
import org.alexkafka.trainer.engine.EngineKind;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.alexkafka.schemas.config.KafkaOptions;
import org.alexkafka.trainer.distributed.GroupFailure;
import org.alexkafka.trainer.distributed.World;
import org.alexkafka.trainer.train.LearningRateSchedule;
import org.alexkafka.trainer.train.Profile;
import org.alexkafka.trainer.train.Trainer;
import org.alexkafka.trainer.train.TrainerConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code train}: AlexNet from samples.train, resuming from the newest checkpoint unless told otherwise. */
@Command(name = "train", mixinStandardHelpOptions = true,
    description = "Train AlexNet on the samples topics with the paper's momentum SGD; checkpoints and resumes.")
public class TrainCommand implements Callable<Integer> {

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec; // the command line this runs in (for usage errors)

  @Mixin
  KafkaOptions kafka = new KafkaOptions();

  @Option(names = "--profile", defaultValue = "${env:TRAIN_PROFILE:-" + TrainerConfig.DEFAULT_PROFILE + "}",
      description = "${COMPLETION-CANDIDATES}: the paper's widths, or the same network narrower (tests, the demo).")
  Profile profile;

  @Option(names = "--classes", defaultValue = "${env:TRAIN_CLASSES:-" + TrainerConfig.DEFAULT_CLASSES + "}",
      description = "Output classes.")
  int classes;

  @Option(names = "--crop-size", defaultValue = "${env:TRAIN_CROP_SIZE:-" + TrainerConfig.DEFAULT_CROP_SIZE + "}",
      description = "Side of the crops the samples carry: augment's --crop-size (224 = the paper's crops).")
  int cropSize;

  @Option(names = "--towers", defaultValue = "${env:TRAIN_TOWERS:-" + TrainerConfig.DEFAULT_TOWERS + "}",
      description = "1, or 2 for the paper's two-GPU grouping of conv2/4/5.")
  int towers;

  @Option(names = "--batch", defaultValue = "${env:TRAIN_BATCH:-" + TrainerConfig.DEFAULT_BATCH + "}",
      description = "GLOBAL batch size, split over the devices or ranks.")
  int batch;

  @Option(names = "--epochs", defaultValue = "${env:TRAIN_EPOCHS:-" + TrainerConfig.DEFAULT_EPOCHS + "}",
      description = "Epochs to train.")
  int epochs;

  @Option(names = "--from-beginning", defaultValue = "${env:TRAIN_FROM_BEGINNING:-false}",
      description = "Ignore existing checkpoints: new network, epoch 1 from offset 0.")
  boolean fromBeginning;

  @Option(names = "--follow", defaultValue = "${env:TRAIN_FOLLOW:-false}",
      description = "Train without end, epoch after epoch, waiting for samples when there are none.")
  boolean follow;

  @Option(names = "--checkpoint-dir", defaultValue = "${env:TRAIN_CHECKPOINT_DIR:-" + TrainerConfig.DEFAULT_CHECKPOINT_DIR + "}",
      description = "Where checkpoints are written and resumed from.")
  String checkpointDir;

  @Option(names = "--checkpoint-every",
      defaultValue = "${env:TRAIN_CHECKPOINT_EVERY:-" + TrainerConfig.DEFAULT_CHECKPOINT_EVERY + "}",
      description = "Iterations between checkpoints; 0 = only at epoch ends and at the end.")
  int checkpointEvery;

  @Option(names = "--keep-checkpoints",
      defaultValue = "${env:TRAIN_KEEP_CHECKPOINTS:-" + TrainerConfig.DEFAULT_KEEP_CHECKPOINTS + "}",
      description = "Checkpoints kept; older ones are deleted.")
  int keepCheckpoints;

  @Option(names = "--shuffle-buffer", defaultValue = "${env:TRAIN_SHUFFLE_BUFFER:-" + TrainerConfig.DEFAULT_SHUFFLE_BUFFER + "}",
      description = "Samples in the shuffle buffer; about 150 KB each at 224 crops.")
  int shuffleBuffer;

  @Option(names = "--shuffle-block", defaultValue = "${env:TRAIN_SHUFFLE_BLOCK:-" + TrainerConfig.DEFAULT_SHUFFLE_BLOCK + "}",
      description = "Consecutive offsets of a partition read as one block; each epoch visits the blocks of all partitions "
          + "in a fresh random order.")
  int shuffleBlock;

  @Option(names = "--lr", defaultValue = "${env:TRAIN_LR:-" + LearningRateSchedule.Settings.DEFAULT_INITIAL + "}",
      description = "Initial learning rate.")
  double learningRate;

  @Option(names = "--lr-schedule", defaultValue = "${env:TRAIN_LR_SCHEDULE:-plateau}",
      description = "${COMPLETION-CANDIDATES}: divide by 10 after --patience evaluations without improvement, "
          + "or after the epochs of --lr-steps.")
  LearningRateSchedule.Rule lrSchedule;

  @Option(names = "--patience", defaultValue = "${env:TRAIN_PATIENCE:-" + LearningRateSchedule.Settings.DEFAULT_PATIENCE + "}",
      description = "Evaluations without improvement before the plateau rule divides the learning rate.")
  int patience;

  @Option(names = "--lr-threshold",
      defaultValue = "${env:TRAIN_LR_THRESHOLD:-" + LearningRateSchedule.Settings.DEFAULT_THRESHOLD + "}",
      description = "Relative improvement of the validation error that counts as one, e.g. 0.01 = 1%%.")
  double lrThreshold;

  @Option(names = "--max-reductions",
      defaultValue = "${env:TRAIN_MAX_REDUCTIONS:-" + LearningRateSchedule.Settings.DEFAULT_MAX_REDUCTIONS + "}",
      description = "Divisions by 10 before the plateau rule ends the run at the next plateau; the paper's 3. "
          + "A run whose validation error reaches 0 ends as converged.")
  int maxReductions;

  @Option(names = "--lr-steps", defaultValue = "${env:TRAIN_LR_STEPS:-}",
      description = "Epochs after which the steps schedule divides by 10, e.g. 30,60,80.")
  String lrSteps;

  @Option(names = "--devices", defaultValue = "${env:TRAIN_DEVICES:-" + TrainerConfig.DEFAULT_DEVICES + "}",
      description = "The dl4j engine's data-parallel workers in this JVM (threads); the torch engine trains one device "
          + "per process: see --world-size.")
  int devices;

  @Option(names = "--engine", defaultValue = "${env:TRAIN_ENGINE:-" + TrainerConfig.DEFAULT_ENGINE + "}",
      description = "dl4j (DL4J/ND4J, CPU) or torch (libtorch: CPU or CUDA); checkpoints are engine-neutral, so a run "
          + "may be resumed on the other engine.")
  String engine;

  @Option(names = "--device", defaultValue = "${env:TRAIN_DEVICE:-" + TrainerConfig.DEFAULT_DEVICE + "}",
      description = "cpu, cuda or cuda:N (cuda needs --engine torch and the GPU build).")
  String device;

  @Option(names = "--batch-form", defaultValue = "${env:TRAIN_BATCH_FORM:-" + TrainerConfig.DEFAULT_BATCH_FORM + "}",
      description = "How batches reach the engine: floats (converted by the feed threads on the CPU), pixels (the 8-bit "
          + "crops, a quarter of the bytes, converted by the engine where it computes) or auto (pixels for the torch "
          + "engine on CUDA, floats otherwise).")
  String batchForm;

  @Option(names = "--rank", defaultValue = "${env:RANK:-0}",
      description = "This process's rank in a data-parallel run, 0 .. world size - 1 (env RANK, as torchrun sets it).")
  int rank;

  @Option(names = "--world-size", defaultValue = "${env:WORLD_SIZE:-1}",
      description = "Processes training together, one per device (env WORLD_SIZE); above 1 needs --engine torch.")
  int worldSize;

  @Option(names = "--local-rank", defaultValue = "${env:LOCAL_RANK:--1}",
      description = "Rank on this host, which picks the GPU of --device cuda (env LOCAL_RANK; default: the rank).")
  int localRank;

  @Option(names = "--master-addr", defaultValue = "${env:MASTER_ADDR:-" + World.DEFAULT_ADDR + "}",
      description = "Rendezvous address: rank 0 serves the group there, bound to it alone (env MASTER_ADDR; default "
          + "${DEFAULT-VALUE}: one host). For several hosts, an address of rank 0's host that the others reach.")
  String masterAddr;

  @Option(names = "--master-port", defaultValue = "${env:MASTER_PORT:-" + World.DEFAULT_PORT + "}",
      description = "Rendezvous port (env MASTER_PORT; default ${DEFAULT-VALUE}).")
  int masterPort;

  @Option(names = "--group-timeout", defaultValue = "${env:TRAIN_GROUP_TIMEOUT:-1800}",
      description = "Seconds a rank waits for the others (joining, a collective, rank 0's evaluation) before it fails "
          + "(env TRAIN_GROUP_TIMEOUT; default ${DEFAULT-VALUE}).")
  long groupTimeout;

  @Option(names = "--shards", defaultValue = "${env:TRAIN_SHARDS:-0}",
      description = "Shards each epoch's order is cut into, each global batch taking a slice of every one; 0 = one per "
          + "rank. Set it to train a run's exact order with another number of ranks (env TRAIN_SHARDS).")
  int shards;

  @Option(names = "--seed", defaultValue = "${env:TRAIN_SEED:-" + TrainerConfig.DEFAULT_SEED + "}",
      description = "Seed of the initialisation, the shuffle and dropout.")
  long seed;

  @Option(names = "--run-dir", defaultValue = "${env:TRAIN_RUN_DIR:-" + TrainerConfig.DEFAULT_RUN_DIR + "}",
      description = "Where metrics.jsonl and the report go.")
  String runDir;

  @Option(names = "--log-every", defaultValue = "${env:TRAIN_LOG_EVERY:-" + TrainerConfig.DEFAULT_LOG_EVERY + "}",
      description = "Iterations per log line and metrics row.")
  int logEvery;

  @Option(names = "--eval-each-epoch", arity = "1",
      defaultValue = "${env:TRAIN_EVAL_EACH_EPOCH:-" + TrainerConfig.DEFAULT_EVAL_EACH_EPOCH + "}",
      description = "true/false: evaluate on samples.val at every epoch end.")
  boolean evalEachEpoch;

  @Option(names = "--max-iterations", defaultValue = "${env:TRAIN_MAX_ITERATIONS:-0}", description = "0 = no limit.")
  long maxIterations;

  @Option(names = "--max-seconds", defaultValue = "${env:TRAIN_MAX_SECONDS:-0}", description = "0 = no limit.")
  long maxSeconds;

  @Option(names = "--stats-timeout",
      defaultValue = "${env:TRAIN_STATS_TIMEOUT:-" + TrainerConfig.DEFAULT_STATS_TIMEOUT_SECONDS + "}",
      description = "Seconds to wait for the mean image on the stats topic.")
  long statsTimeout;

  private MeterRegistry registry = io.micrometer.core.instrument.Metrics.globalRegistry;

  /** The registry the run records into (the CLI wiring passes its Prometheus registry). */
  public TrainCommand withRegistry(MeterRegistry r) {
    this.registry = r;
    return this;
  }

  public TrainerConfig config() {
    return TrainerConfig.builder().profile(profile).classes(classes).cropSize(cropSize).towers(towers).batchSize(batch)
        .epochs(epochs).fromBeginning(fromBeginning).follow(follow).checkpointDir(checkpointDir)
        .checkpointEvery(checkpointEvery).keepCheckpoints(keepCheckpoints).shuffleBuffer(shuffleBuffer)
        .shuffleBlock(shuffleBlock)
        .lr(new LearningRateSchedule.Settings(lrSchedule, learningRate, patience, lrThreshold, maxReductions,
            parseSteps(lrSteps)))
        .devices(devices).seed(seed).runDir(runDir).logEvery(logEvery).evalEachEpoch(evalEachEpoch)
        .maxIterations(maxIterations).maxSeconds(maxSeconds).statsTimeoutSeconds(statsTimeout)
        .engine(EngineKind.parse(engine)).device(device).batchForm(BatchForm.parse(batchForm)).build();
  }

  /** This process's place in the data-parallel group (one process unless --world-size / WORLD_SIZE says more). */
  public World world() {
    return new World(rank, worldSize, localRank < 0 ? rank : localRank, masterAddr, masterPort,
        java.time.Duration.ofSeconds(groupTimeout));
  }

  private static List<Integer> parseSteps(String s) {
    if (s == null || s.isBlank()) {
      return List.of();
    }
    try {
      return java.util.Arrays.stream(s.split(",")).map(String::trim).map(Integer::valueOf).toList();
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--lr-steps takes epochs separated by commas, e.g. 30,60,80; got " + s);
    }
  }

  @Override
  public Integer call() throws InterruptedException {
    TrainerConfig cfg;
    Trainer trainer;
    try {
      cfg = config();
      trainer = new Trainer(cfg, kafka.toConnection(), registry, world(), shards);
    } catch (IllegalArgumentException e) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    CountDownLatch done = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      trainer.stop(); // Ctrl-C / SIGTERM: finish the step, write a checkpoint, then exit
      try {
        done.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "trainer-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      Trainer.Result r = trainer.run();
      String checkpoint = r.lastCheckpoint() != null ? r.lastCheckpoint().toString()
          : rank > 0 ? "(rank 0 writes them)" : "none";
      System.out.printf("trained to epoch %d, iteration %d (%d samples), lr %s, checkpoint %s%nended: %s%n", r.epoch(),
          r.iteration(), r.samplesTrained(), r.learningRate(), checkpoint, r.ended().description());
      if (r.lastEval() != null) {
        System.out.println(r.lastEval().summary());
      }
      return 0;
    } catch (GroupFailure e) {
      System.err.println("train: " + e.getMessage());
      return 3;
    } catch (org.alexkafka.trainer.checkpoint.CheckpointStore.SaveFailed e) {
      System.err.println("train: " + e.getMessage()); // the run's final checkpoint is not on disk
      return 4;
    } finally {
      trainer.close();
      done.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running: nothing to remove
      }
    }
  }

}
