package org.alexkafka.trainer.cli;

import org.alexkafka.trainer.engine.EngineKind;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.alexkafka.schemas.config.KafkaOptions;
import org.alexkafka.trainer.data.ShuffledEpoch;
import org.alexkafka.trainer.distributed.GroupFailure;
import org.alexkafka.trainer.distributed.World;
import org.alexkafka.trainer.train.LearningRateSchedule;
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

  @Option(names = "--profile", defaultValue = "${env:TRAIN_PROFILE:-paper}",
      description = "paper (the paper's widths) or small (same network, narrower; tests/demo). Env TRAIN_PROFILE.")
  String profile;

  @Option(names = "--classes", defaultValue = "${env:TRAIN_CLASSES:-1000}", description = "Output classes (env TRAIN_CLASSES).")
  int classes;

  @Option(names = "--input-size", defaultValue = "${env:TRAIN_INPUT_SIZE:-224}",
      description = "Crop side the samples carry (env TRAIN_INPUT_SIZE; 224 = the paper's crops).")
  int inputSize;

  @Option(names = "--towers", defaultValue = "${env:TRAIN_TOWERS:-1}",
      description = "1, or 2 for the paper's two-GPU grouping of conv2/4/5 (env TRAIN_TOWERS).")
  int towers;

  @Option(names = "--batch", defaultValue = "${env:TRAIN_BATCH:-128}",
      description = "GLOBAL batch size, split over the devices (env TRAIN_BATCH).")
  int batch;

  @Option(names = "--epochs", defaultValue = "${env:TRAIN_EPOCHS:-90}", description = "Epochs to train (env TRAIN_EPOCHS).")
  int epochs;

  @Option(names = "--from-beginning", defaultValue = "${env:TRAIN_FROM_BEGINNING:-false}",
      description = "Ignore existing checkpoints: new network, epoch 1 from offset 0 (env TRAIN_FROM_BEGINNING).")
  boolean fromBeginning;

  @Option(names = "--follow", defaultValue = "${env:TRAIN_FOLLOW:-false}",
      description = "Train without end, epoch after epoch, waiting for samples when there are none (env TRAIN_FOLLOW).")
  boolean follow;

  @Option(names = "--checkpoint-dir", defaultValue = "${env:CHECKPOINT_DIR:-checkpoints}", description = "Env CHECKPOINT_DIR.")
  String checkpointDir;

  @Option(names = "--checkpoint-every", defaultValue = "${env:CHECKPOINT_EVERY:-1000}",
      description = "Iterations between checkpoints; 0 = only at epoch ends and at the end (env CHECKPOINT_EVERY).")
  int checkpointEvery;

  @Option(names = "--keep-checkpoints", defaultValue = "${env:KEEP_CHECKPOINTS:-3}", description = "Env KEEP_CHECKPOINTS.")
  int keepCheckpoints;

  @Option(names = "--shuffle-buffer", defaultValue = "${env:SHUFFLE_BUFFER:-1024}",
      description = "Samples in the shuffle buffer (env SHUFFLE_BUFFER); about 150 KB each at 224 crops.")
  int shuffleBuffer;

  @Option(names = "--shuffle-block", defaultValue = "${env:SHUFFLE_BLOCK:-" + ShuffledEpoch.DEFAULT_BLOCK + "}",
      description = "Consecutive offsets of a partition read as one block; each epoch visits the blocks of all partitions "
          + "in a fresh random order (env SHUFFLE_BLOCK).")
  int shuffleBlock;

  @Option(names = "--lr", defaultValue = "${env:LEARNING_RATE:-0.01}", description = "Initial learning rate (env LEARNING_RATE).")
  double learningRate;

  @Option(names = "--lr-schedule", defaultValue = "${env:LR_SCHEDULE:-plateau}",
      description = "plateau (divide by 10 after --patience evaluations without improvement) or steps (env LR_SCHEDULE).")
  String lrSchedule;

  @Option(names = "--patience", defaultValue = "${env:LR_PATIENCE:-2}",
      description = "Evaluations without improvement before the plateau rule divides the learning rate (env LR_PATIENCE).")
  int patience;

  @Option(names = "--lr-threshold", defaultValue = "${env:LR_THRESHOLD:-0.01}",
      description = "Relative improvement of the validation error that counts as one, e.g. 0.01 = 1%% (env LR_THRESHOLD).")
  double lrThreshold;

  @Option(names = "--max-reductions", defaultValue = "${env:LR_MAX_REDUCTIONS:-3}",
      description = "Divisions by 10 before the plateau rule ends the run at the next plateau; the paper's 3 "
          + "(env LR_MAX_REDUCTIONS). A run whose validation error reaches 0 ends as converged.")
  int maxReductions;

  @Option(names = "--lr-steps", defaultValue = "${env:LR_STEPS:-}",
      description = "Epochs after which the steps schedule divides by 10, e.g. 30,60,80 (env LR_STEPS).")
  String lrSteps;

  @Option(names = "--devices", defaultValue = "${env:TRAIN_DEVICES:-1}",
      description = "The dl4j engine's data-parallel workers in this JVM (threads); the torch engine trains one device "
          + "per process: see --world-size (env TRAIN_DEVICES).")
  int devices;

  @Option(names = "--engine", defaultValue = "${env:TRAIN_ENGINE:-dl4j}",
      description = "dl4j (DL4J/ND4J, CPU) or torch (libtorch: CPU or CUDA); checkpoints are engine-neutral, so a run "
          + "may be resumed on the other engine (env TRAIN_ENGINE; default ${DEFAULT-VALUE}).")
  String engine;

  @Option(names = "--device", defaultValue = "${env:TRAIN_DEVICE:-cpu}",
      description = "cpu, cuda or cuda:N (cuda needs --engine torch and the GPU build; env TRAIN_DEVICE; default ${DEFAULT-VALUE}).")
  String device;

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

  @Option(names = "--seed", defaultValue = "${env:TRAIN_SEED:-42}", description = "Env TRAIN_SEED.")
  long seed;

  @Option(names = "--run-dir", defaultValue = "${env:RUN_DIR:-runs/train}",
      description = "Where metrics.jsonl goes (env RUN_DIR).")
  String runDir;

  @Option(names = "--log-every", defaultValue = "${env:LOG_EVERY:-20}", description = "Iterations per log line (env LOG_EVERY).")
  int logEvery;

  @Option(names = "--eval-each-epoch", arity = "1", defaultValue = "${env:EVAL_EACH_EPOCH:-true}",
      description = "true/false: evaluate on samples.val at every epoch end (env EVAL_EACH_EPOCH).")
  boolean evalEachEpoch;

  @Option(names = "--max-iterations", defaultValue = "${env:MAX_ITERATIONS:-0}", description = "0 = no limit (env MAX_ITERATIONS).")
  long maxIterations;

  @Option(names = "--max-seconds", defaultValue = "${env:MAX_SECONDS:-0}", description = "0 = no limit (env MAX_SECONDS).")
  long maxSeconds;

  @Option(names = "--stats-timeout", defaultValue = "${env:STATS_TIMEOUT:-300}",
      description = "Seconds to wait for the mean image on the stats topic (env STATS_TIMEOUT).")
  long statsTimeout;

  private MeterRegistry registry = io.micrometer.core.instrument.Metrics.globalRegistry;

  /** The registry the run records into (the CLI wiring passes its Prometheus registry). */
  public TrainCommand withRegistry(MeterRegistry r) {
    this.registry = r;
    return this;
  }

  public TrainerConfig config() {
    return new TrainerConfig(profile, classes, inputSize, towers, batch, epochs, fromBeginning, follow, checkpointDir,
        checkpointEvery, keepCheckpoints, shuffleBuffer, shuffleBlock,
        new LearningRateSchedule.Settings(lrSchedule, learningRate, patience, lrThreshold, maxReductions, parseSteps(lrSteps)),
        devices, seed, runDir, logEvery, evalEachEpoch, maxIterations, maxSeconds,
        statsTimeout, EngineKind.parse(engine), device);
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
