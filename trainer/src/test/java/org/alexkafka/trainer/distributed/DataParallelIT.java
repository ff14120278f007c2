package org.alexkafka.trainer.distributed;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.alexkafka.schemas.config.KafkaConnection;
import org.alexkafka.schemas.topics.Topics;
import org.alexkafka.trainer.checkpoint.CheckpointState;
import org.alexkafka.trainer.checkpoint.CheckpointStore;
import org.alexkafka.trainer.engine.EngineKind;
import org.alexkafka.trainer.engine.ParameterInit;
import org.alexkafka.trainer.engine.Tensors;
import org.alexkafka.trainer.support.TestData;
import org.alexkafka.trainer.support.ChildJvm;
import org.alexkafka.trainer.support.TrainProcess;
import org.alexkafka.trainer.train.LearningRateSchedule;
import org.alexkafka.trainer.train.Trainer;
import org.alexkafka.trainer.train.Profile;
import org.alexkafka.trainer.train.TrainerConfig;
import org.alexkafka.trainer.data.ShuffledEpoch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data parallelism as DDP does it, with real processes: ranks are JVMs of their own (Gloo over
 * 127.0.0.1, the rendezvous served by rank 0), training on real photos from the embedded broker.
 */
class DataParallelIT {

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(DataParallelIT.class);

  private static final int CLASSES = 4;
  private static final int IMAGE = 72;
  private static final int CROP = 64;
  private static final int BATCH = 32;
  private static Topics topics;

  @TempDir
  Path tmp;

  @BeforeAll
  static void publish() throws Exception {
    topics = TestData.freshTopics("ddp-it");
    List<TestData.SmallImage> train = TestData.imagenette("train", CLASSES, 40, IMAGE);
    TestData.publishAsAugment(topics.samplesTrain(), TestData.trainSamples(train, IMAGE, CROP, 2, 3), 32, false);
    TestData.publish(topics.samplesVal(), TestData.valViews(TestData.imagenette("val", CLASSES, 5, IMAGE), IMAGE, CROP));
    TestData.publishStats(topics.stats(), TestData.stats(train, IMAGE));
  }

  /** The run's settings, as flags for the child JVMs and as the record for the in-process rank. */
  private static List<String> flags(Path checkpoints, Path run, int epochs, long maxIterations, int checkpointEvery) {
    return List.of("--bootstrap-servers", TestData.bootstrap(), "--topic-prefix", topics.prefix(), "--engine", "torch",
        "--profile", "small", "--classes", String.valueOf(CLASSES), "--crop-size", String.valueOf(CROP), "--batch",
        String.valueOf(BATCH), "--epochs", String.valueOf(epochs), "--max-iterations", String.valueOf(maxIterations),
        "--checkpoint-dir", checkpoints.toString(), "--checkpoint-every", String.valueOf(checkpointEvery), "--run-dir",
        run.toString(), "--eval-each-epoch", "false", "--shuffle-buffer", "64", "--lr", "0.01", "--seed", "11",
        "--log-every", "5", "--stats-timeout", "30");
  }

  private static TrainerConfig config(Path checkpoints, Path run, long maxIterations) {
    return TrainerConfig.builder().profile(Profile.SMALL).classes(CLASSES).cropSize(CROP).batchSize(BATCH).epochs(1)
        .checkpointDir(checkpoints.toString()).checkpointEvery(0).shuffleBuffer(64).seed(11)
        .runDir(run.toString()).logEvery(5).evalEachEpoch(false).maxIterations(maxIterations)
        .statsTimeoutSeconds(30).engine(EngineKind.TORCH).build();
  }

  private static Process rank(int rank, int world, int port, List<String> flags, Path log) throws IOException {
    return ChildJvm.start(ChildJvm.command(TrainProcess.class, List.of(), flags), log, Map.of("RANK", String.valueOf(rank),
        "WORLD_SIZE", String.valueOf(world), "MASTER_ADDR", "127.0.0.1", "MASTER_PORT", String.valueOf(port),
        "TRAIN_GROUP_TIMEOUT", "120", "OMP_NUM_THREADS", "1")); // two ranks on two cores
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static int waitFor(Process p, Path log, int seconds) throws Exception {
    return ChildJvm.waitFor(p, log, seconds);
  }

  private static String tail(Path log) throws IOException {
    return ChildJvm.tail(log);
  }

  @Test
  void twoRanksTrainAsOneProcessOverTheSameTwoShards() throws Exception {
    int steps = 8;
    // the reference: one process, the epoch cut into the same 2 shards (2 slices of 16 per step)
    TrainerConfig one = config(tmp.resolve("one-ckpt"), tmp.resolve("one-run"), steps);
    Tensors reference;
    CheckpointState referenceState;
    try (Trainer t = new Trainer(one, new KafkaConnection(TestData.bootstrap(), topics), new SimpleMeterRegistry(),
        World.single(), 2)) {
      Trainer.Result r = t.run();
      assertThat(r.iteration()).isEqualTo(steps);
      reference = t.engine().parameters();
      referenceState = CheckpointStore.load(r.lastCheckpoint()).state();
    }

    int port = freePort();
    Path ckpt = tmp.resolve("two-ckpt");
    List<String> f = flags(ckpt, tmp.resolve("two-run"), 1, steps, 0);
    Path log0 = tmp.resolve("rank0.log");
    Path log1 = tmp.resolve("rank1.log");
    Process r0 = rank(0, 2, port, f, log0);
    Process r1 = rank(1, 2, port, f, log1);
    assertThat(waitFor(r0, log0, 180)).as(tail(log0)).isZero();
    assertThat(waitFor(r1, log1, 60)).as(tail(log1)).isZero();

    // only rank 0 writes checkpoints, holding every shard's position
    assertThat(Files.list(tmp.resolve("two-run")).map(p -> p.getFileName().toString())).contains("rank-1");
    CheckpointStore.Loaded two = CheckpointStore.load(new CheckpointStore(ckpt, 3).latest().orElseThrow());
    assertThat(two.state().iteration()).isEqualTo(steps);
    assertThat(two.state().samplesTrained()).isEqualTo((long) steps * BATCH);
    assertThat(two.state().cursor()).isEqualTo(referenceState.cursor());
    assertThat(two.state().cursor().shardPositions()).hasSize(2).allSatisfy(p -> assertThat(p).isPositive());
    double diff = two.parameters().maxRelativeError(reference, 1e-3);
    log.info("2 ranks vs 1 process over the same 2 shards, {} steps: max relative error of the weights {}", steps, diff);
    assertThat(diff).as("2 ranks vs 1 process, max relative error of the weights after " + steps + " steps")
        .isLessThan(1e-5);
    // and training did move them: the comparison is not between two initial states
    assertThat(two.parameters().maxRelativeError(ParameterInit.of(one.spec()), 1e-3)).isGreaterThan(1e-3);
  }

  @ParameterizedTest(name = "rank {0} killed")
  @ValueSource(ints = {1, 0})
  void aKilledRankFailsTheGroupClearlyAndTheRestartedGroupResumes(int killed) throws Exception {
    Path ckpt = tmp.resolve("kill-ckpt");
    Path run = tmp.resolve("kill-run");
    CheckpointStore store = new CheckpointStore(ckpt, 3);
    int port = freePort();
    List<String> f = flags(ckpt, run, 1000, 0, 3);
    Path log0 = tmp.resolve("kill-rank0.log");
    Path log1 = tmp.resolve("kill-rank1.log");
    Process r0 = rank(0, 2, port, f, log0);
    Process r1 = rank(1, 2, port, f, log1);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
    long atKill = 0;
    while (atKill < 9) {
      assertThat(System.nanoTime()).as("no checkpoint past iteration 9 within 180 s:\n" + tail(log0)).isLessThan(deadline);
      assertThat(r0.isAlive() && r1.isAlive()).as("a rank ended early:\n" + tail(log0) + "\n" + tail(log1)).isTrue();
      Thread.sleep(100);
      atKill = store.latest().map(p -> CheckpointStore.load(p).state().iteration()).orElse(0L);
    }
    Process victim = killed == 0 ? r0 : r1; // rank 0 also serves the rendezvous and writes the checkpoints
    Process survivor = killed == 0 ? r1 : r0;
    Path survivorLog = killed == 0 ? log1 : log0;
    victim.destroyForcibly(); // SIGKILL, mid-epoch: an epoch is 10 steps
    victim.waitFor();

    // the survivor fails at its next collective, with a clear message, and does not hang
    assertThat(waitFor(survivor, survivorLog, 60)).as(tail(survivorLog)).isEqualTo(3);
    String failure = Files.readAllLines(survivorLog).stream().filter(l -> l.startsWith("train: ")).findFirst().orElse("");
    log.info("rank {} killed after checkpoint {}; the other said: {}", killed, atKill, failure);
    assertThat(failure).contains("rank " + (1 - killed) + " of 2 could not").contains("restart every rank");
    assertThat(Files.readString(survivorLog)).doesNotContain("\tat org.alexkafka"); // a message, not a stack trace
    // what it left is whole: every checkpoint loads; a save cut short stays in a .writing- folder, never read
    try (var entries = Files.list(ckpt)) {
      assertThat(entries.map(p -> p.getFileName().toString()))
          .allMatch(n -> n.startsWith("ckpt-") || killed == 0 && n.startsWith(".writing-"));
    }
    for (Path p : store.list()) {
      CheckpointStore.load(p);
    }
    CheckpointState last = CheckpointStore.load(store.latest().orElseThrow()).state();
    assertThat(last.iteration()).isGreaterThanOrEqualTo(atKill);

    // restarted, both ranks go on from that checkpoint and train 6 more steps
    long target = last.iteration() + 6;
    List<String> again = flags(ckpt, run, 1000, target, 3);
    Process s0 = rank(0, 2, port, again, log0);
    Process s1 = rank(1, 2, port, again, log1);
    assertThat(waitFor(s0, log0, 180)).as(tail(log0)).isZero();
    assertThat(waitFor(s1, log1, 60)).as(tail(log1)).isZero();
    assertThat(Files.readString(log0)).contains("resuming from ").contains("iteration " + last.iteration() + ", lr");
    CheckpointState end = CheckpointStore.load(store.latest().orElseThrow()).state();
    assertThat(end.iteration()).isEqualTo(target);
    assertThat(end.samplesTrained()).isGreaterThan(last.samplesTrained());
    assertThat(end.cursor().shardPositions()).hasSize(2);
    try (var entries = Files.list(ckpt)) {
      assertThat(entries.map(p -> p.getFileName().toString())).allMatch(n -> n.startsWith("ckpt-"));
    }
  }

  @Test
  void aRankStoppedBySigtermStopsTheWholeGroupWithACheckpoint() throws Exception {
    Path ckpt = tmp.resolve("stop-ckpt");
    CheckpointStore store = new CheckpointStore(ckpt, 3);
    int port = freePort();
    List<String> f = flags(ckpt, tmp.resolve("stop-run"), 1000, 0, 3);
    Path log0 = tmp.resolve("stop-rank0.log");
    Path log1 = tmp.resolve("stop-rank1.log");
    Process r0 = rank(0, 2, port, f, log0);
    Process r1 = rank(1, 2, port, f, log1);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
    while (store.latest().isEmpty()) {
      assertThat(System.nanoTime()).as("no checkpoint within 180 s:\n" + tail(log0)).isLessThan(deadline);
      assertThat(r0.isAlive() && r1.isAlive()).as("a rank ended early:\n" + tail(log0) + "\n" + tail(log1)).isTrue();
      Thread.sleep(100);
    }
    long before = CheckpointStore.load(store.latest().orElseThrow()).state().iteration();
    r1.destroy(); // SIGTERM to one rank only, as a scheduler or `docker stop` may send it
    // the JVM that got SIGTERM exits 143 (128 + 15) once its shutdown hook has stopped the run
    assertThat(waitFor(r1, log1, 60)).as(tail(log1)).isEqualTo(143);
    assertThat(Files.readString(log1)).contains("ended: " + org.alexkafka.trainer.train.RunEnd.STOPPED.description());
    assertThat(waitFor(r0, log0, 60)).as(tail(log0)).isZero();
    CheckpointState last = CheckpointStore.load(store.latest().orElseThrow()).state();
    assertThat(last.ended()).isEqualTo(org.alexkafka.trainer.train.RunEnd.STOPPED);
    assertThat(last.iteration()).isGreaterThanOrEqualTo(before);
    assertThat(Files.readString(log0)).contains("ended: " + org.alexkafka.trainer.train.RunEnd.STOPPED.description());
  }
}
