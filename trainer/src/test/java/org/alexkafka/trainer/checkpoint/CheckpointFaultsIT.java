package org.alexkafka.trainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.alexkafka.schemas.config.KafkaConnection;
import org.alexkafka.schemas.topics.Topics;
import org.alexkafka.trainer.data.ShuffledEpoch;
import org.alexkafka.trainer.engine.EngineKind;
import org.alexkafka.trainer.support.ChildJvm;
import org.alexkafka.trainer.support.TestData;
import org.alexkafka.trainer.support.TrainProcess;
import org.alexkafka.trainer.train.LearningRateSchedule;
import org.alexkafka.trainer.train.Trainer;
import org.alexkafka.trainer.train.Profile;
import org.alexkafka.trainer.train.TrainerConfig;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The checkpoint directory's disk full, for real: the trainer ({@code train}, a JVM of its own on the
 * embedded broker) resumes from a checkpoint and then cannot write the next ones because the OS
 * refuses the bytes. Two ways to make the OS refuse: a file size limit ({@code ulimit -f}: every
 * write past it fails with EFBIG, "File too large"; works anywhere bash does), and a small tmpfs
 * mounted in a user and mount namespace of the child's own ({@code unshare -rm}: ENOSPC, "No space
 * left on device"; skipped where namespaces are not allowed).
 *
 * <p>What the trainer does: every failed save is one line naming the checkpoint, the OS's reason,
 * the file and the previous checkpoint, which is left intact (byte for byte); its partial folder is
 * removed; training goes on and the next checkpoint tries again; a final checkpoint that cannot be
 * written makes {@code train} exit with 4 and say so.
 */
@EnabledOnOs(OS.LINUX)
class CheckpointFaultsIT {

  private static final Logger log = LoggerFactory.getLogger(CheckpointFaultsIT.class);
  private static final int CLASSES = 4;
  private static final int IMAGE = 72;
  private static final int CROP = 64;
  private static final int BATCH = 32;
  private static final String PREVIOUS = "ckpt-0000000002";
  private static Topics topics;

  @TempDir
  static Path stage;

  @TempDir
  Path tmp;

  /** Samples on the broker, and the checkpoint every test starts from: 2 iterations, trained in this JVM. */
  @BeforeAll
  static void publishAndTrainTwoIterations() throws Exception {
    topics = TestData.freshTopics("ckpt-faults-it");
    List<TestData.SmallImage> train = TestData.imagenette("train", CLASSES, 40, IMAGE);
    TestData.publish(topics.samplesTrain(), TestData.trainSamples(train, IMAGE, CROP, 2, 3));
    TestData.publish(topics.samplesVal(), TestData.valViews(TestData.imagenette("val", CLASSES, 2, IMAGE), IMAGE, CROP));
    TestData.publishStats(topics.stats(), TestData.stats(train, IMAGE));
    TrainerConfig cfg = TrainerConfig.builder().profile(Profile.SMALL).classes(CLASSES).cropSize(CROP).batchSize(BATCH).epochs(1)
        .checkpointDir(stage.resolve("ckpt").toString()).checkpointEvery(0).shuffleBuffer(64).seed(11)
        .runDir(stage.resolve("run").toString()).logEvery(5).evalEachEpoch(false).maxIterations(2)
        .statsTimeoutSeconds(60).build();
    try (Trainer t = new Trainer(cfg, new KafkaConnection(TestData.bootstrap(), topics), new SimpleMeterRegistry())) {
      assertThat(t.run().lastCheckpoint().getFileName().toString()).isEqualTo(PREVIOUS);
    }
  }

  private List<String> train(Path checkpoints, long maxIterations, int every, int keep) {
    return ChildJvm.command(TrainProcess.class, List.of(), List.of("--bootstrap-servers", TestData.bootstrap(),
        "--topic-prefix", topics.prefix(), "--engine", "dl4j", "--profile", "small", "--classes", String.valueOf(CLASSES),
        "--crop-size", String.valueOf(CROP), "--batch", String.valueOf(BATCH), "--epochs", "1", "--max-iterations",
        String.valueOf(maxIterations), "--checkpoint-dir", checkpoints.toString(), "--checkpoint-every", String.valueOf(every),
        "--keep-checkpoints", String.valueOf(keep), "--run-dir", tmp.resolve("run").toString(), "--eval-each-epoch",
        "false", "--shuffle-buffer", "64", "--lr", "0.01", "--seed", "11", "--log-every", "5", "--stats-timeout", "60"));
  }

  /** A copy of the staged checkpoint directory. */
  private static Path copyOfStage(Path to) throws Exception {
    Files.createDirectories(to.resolve(PREVIOUS));
    try (Stream<Path> s = Files.list(stage.resolve("ckpt").resolve(PREVIOUS))) {
      for (Path f : s.toList()) {
        Files.copy(f, to.resolve(PREVIOUS).resolve(f.getFileName()));
      }
    }
    return to;
  }

  /** SHA-256 of every file of a checkpoint, by name. */
  private static Map<String, String> digests(Path checkpoint) throws Exception {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> s = Files.list(checkpoint)) {
      for (Path f : s.toList()) {
        out.put(f.getFileName().toString(),
            HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f))));
      }
    }
    return out;
  }

  private static TreeSet<String> names(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return new TreeSet<>(s.map(p -> p.getFileName().toString()).toList());
    }
  }

  private static List<String> lines(String text, String containing) {
    return text.lines().filter(l -> l.contains(containing)).toList();
  }

  private JsonNode endRow() throws Exception {
    ObjectMapper json = new ObjectMapper();
    List<JsonNode> ends = new ArrayList<>();
    for (String l : Files.readAllLines(tmp.resolve("run").resolve("metrics.jsonl"))) {
      JsonNode n = json.readTree(l);
      if (n.get("kind").asText().equals("end")) {
        ends.add(n);
      }
    }
    assertThat(ends).hasSize(1);
    return ends.get(0);
  }

  /** The previous checkpoint as the trainer reads it, compared with the staged one: the same tensors, the same state. */
  private static void assertSameAsStaged(Path checkpoint) {
    CheckpointStore.Loaded staged = CheckpointStore.load(stage.resolve("ckpt").resolve(PREVIOUS));
    CheckpointStore.Loaded now = CheckpointStore.load(checkpoint);
    assertThat(now.parameters().maxRelativeError(staged.parameters(), 1e-30)).isZero();
    assertThat(now.momentum().maxRelativeError(staged.momentum(), 1e-30)).isZero();
    assertThat(now.state()).isEqualTo(staged.state());
  }

  /**
   * Every checkpoint file larger than the limit: the saves at iterations 4 and 6 fail and training
   * goes on past each; the final one (iteration 6) fails too, and train exits 4 saying so. The
   * previous checkpoint is the directory's only entry, unchanged.
   */
  @Test
  void pastTheFileSizeLimitEverySaveFailsClearlyTheRunGoesOnAndExitsNonZeroWithThePreviousCheckpointIntact()
      throws Exception {
    Path ckpt = copyOfStage(tmp.resolve("ckpt"));
    Map<String, String> before = digests(ckpt.resolve(PREVIOUS));
    long parameterBytes = Files.size(ckpt.resolve(PREVIOUS).resolve(CheckpointStore.PARAMETERS));
    long limitKb = parameterBytes / 1024 / 2; // half a parameters.npz; far above the log and the metrics file
    List<String> cmd = new ArrayList<>(List.of("bash", "-c", "ulimit -f \"$1\" && shift && exec \"$@\"", "bash",
        String.valueOf(limitKb)));
    cmd.addAll(train(ckpt, 6, 2, 3));
    Path out = tmp.resolve("train.log");
    long t0 = System.nanoTime();
    Process p = ChildJvm.start(cmd, out);
    int exit = ChildJvm.waitFor(p, out, 180);
    double seconds = (System.nanoTime() - t0) / 1e9;
    String text = Files.readString(out);
    log.info("ulimit -f {} (KB; parameters.npz is {} bytes): exit {} after {} s; said:\n{}", limitKb, parameterBytes, exit,
        String.format("%.1f", seconds), String.join("\n", lines(text, "not written")));

    assertThat(exit).as(ChildJvm.tail(out)).isEqualTo(4);
    Path previous = ckpt.resolve(PREVIOUS);
    List<String> warnings = lines(text, "not written").stream().filter(l -> l.contains("WARN")).toList();
    assertThat(warnings).hasSize(2);
    assertThat(warnings.get(0)).contains("checkpoint ckpt-0000000004 not written: File too large (writing "
        + ckpt.resolve(CheckpointStore.WRITING_PREFIX)).contains("the previous checkpoint " + previous + " is intact; "
        + "training goes on and tries again at iteration 6");
    assertThat(warnings.get(1)).contains("checkpoint ckpt-0000000006 not written: File too large")
        .contains("the previous checkpoint " + previous + " is intact");
    assertThat(lines(text, "ERROR").stream().filter(l -> l.contains("not written")).toList()).singleElement().asString()
        .contains("the run's final checkpoint ckpt-0000000006 not written: File too large");
    assertThat(text).contains("training ended in epoch 1, iteration 6: the iteration limit was reached");
    assertThat(lines(text, "train: ")).singleElement().asString().startsWith("train: the run's final checkpoint "
        + "ckpt-0000000006 not written: File too large").endsWith("the previous checkpoint " + previous
        + " is intact; a restart resumes from it");
    assertThat(text).doesNotContain("\tat "); // lines, not stack traces
    JsonNode end = endRow(); // the run itself ended as usual: 4 iterations trained past the checkpoint
    assertThat(end.get("iteration").asLong()).isEqualTo(6);
    assertThat(end.get("samples").asLong()).isEqualTo(6L * BATCH);

    assertThat(names(ckpt)).containsExactly(PREVIOUS); // no partial folder left
    assertThat(digests(previous)).isEqualTo(before);
    assertSameAsStaged(previous);
  }

  private static boolean namespacesAllowed(Path scratch) throws Exception {
    Path probe = Files.createDirectories(scratch.resolve("probe"));
    try {
      Process p = new ProcessBuilder("unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs \"$0\"", probe.toString())
          .redirectErrorStream(true).start();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (java.io.IOException noUnshare) {
      return false;
    }
  }

  /**
   * A real full disk: a tmpfs that holds the previous checkpoint and, with a ballast file, 3/4 of
   * another. The save at iteration 3 fails with ENOSPC; the script that mounted the tmpfs then
   * snapshots the directory and removes the ballast (the operator freeing space, while the trainer
   * trains iterations 4 to 6), and the next checkpoints are written: the run ends at iteration 9
   * with its final checkpoint, exit 0.
   */
  @Test
  void onAFullDiskTheSaveFailsWithNoSpaceLeftThePreviousCheckpointStaysAndTheNextSaveSucceedsOnceThereIsRoom()
      throws Exception {
    Assumptions.assumeTrue(namespacesAllowed(tmp), "unshare -rm with a tmpfs mount is not allowed here");
    Path seed = copyOfStage(tmp.resolve("seed"));
    Map<String, String> before = digests(seed.resolve(PREVIOUS));
    long checkpoint = 0;
    for (Path f : Files.list(seed.resolve(PREVIOUS)).toList()) {
      checkpoint += Files.size(f);
    }
    long size = 4 * checkpoint + 256 * 1024;
    long ballast = size - checkpoint - 3 * checkpoint / 4 - 64 * 1024; // free: 3/4 of a checkpoint
    Path ckpt = Files.createDirectories(tmp.resolve("ckpt")); // the mount point, seen only by the child
    Path snapshot = tmp.resolve("at-failure");
    Path after = Files.createDirectories(tmp.resolve("after"));
    Path out = tmp.resolve("train.log");
    String script = String.join("\n",
        "set -u",
        "mount -t tmpfs -o size=" + size / 1024 + "k tmpfs \"$CKPT\" || exit 97",
        "cp -a \"$SEED\"/. \"$CKPT\"/",
        "head -c " + ballast + " /dev/zero > \"$CKPT/ballast\"",
        "\"$@\" > \"$LOG\" 2>&1 &",
        "pid=$!",
        "freed=0",
        "while kill -0 $pid 2>/dev/null; do",
        "  if [ $freed = 0 ] && grep -q 'not written' \"$LOG\"; then cp -a \"$CKPT\" \"$SNAP\"; rm -f \"$CKPT/ballast\"; freed=1; fi",
        "  sleep 0.02",
        "done",
        "wait $pid; rc=$?",
        "cp -a \"$CKPT\"/. \"$AFTER\"/",
        "exit $rc");
    List<String> cmd = new ArrayList<>(List.of("unshare", "-rm", "bash", "-c", script, "bash"));
    cmd.addAll(train(ckpt, 9, 3, 2));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("script.log").toFile());
    pb.environment().putAll(Map.of("CKPT", ckpt.toString(), "SEED", seed.toString(), "LOG", out.toString(), "SNAP",
        snapshot.toString(), "AFTER", after.toString(), "OMP_NUM_THREADS", "2"));
    long t0 = System.nanoTime();
    Process p = pb.start();
    int exit = ChildJvm.waitFor(p, out, 180);
    double seconds = (System.nanoTime() - t0) / 1e9;
    String text = Files.readString(out);
    log.info("tmpfs of {} KB (a checkpoint is {} bytes, ballast {}): exit {} after {} s; said:\n{}", size / 1024, checkpoint,
        ballast, exit, String.format("%.1f", seconds), String.join("\n", lines(text, "not written")));

    assertThat(exit).as(ChildJvm.tail(out) + "\n" + Files.readString(tmp.resolve("script.log"))).isZero();
    Path previous = ckpt.resolve(PREVIOUS);
    List<String> failed = lines(text, "not written");
    assertThat(failed).hasSizeBetween(1, 2); // 2: the script freed the space too late for the save at 6 (a slow machine)
    assertThat(failed).allSatisfy(l -> assertThat(l).contains("WARN").contains("No space left on device (writing "
        + ckpt.resolve(CheckpointStore.WRITING_PREFIX)).contains("the previous checkpoint " + previous + " is intact; "
        + "training goes on and tries again at iteration "));
    assertThat(failed.get(0)).contains("checkpoint ckpt-0000000003 not written: No space left on device")
        .contains("tries again at iteration 6");
    // right after the failure: the previous checkpoint as it was, the partial folder gone
    assertThat(names(snapshot)).containsExactly("ballast", PREVIOUS);
    assertThat(digests(snapshot.resolve(PREVIOUS))).isEqualTo(before);
    assertSameAsStaged(snapshot.resolve(PREVIOUS));
    // room again: the next saves and the final one are written (keeping 2)
    assertThat(text).contains("checkpoint " + ckpt.resolve("ckpt-0000000009") + " (epoch 1, iteration 9");
    assertThat(text).contains("training ended in epoch 1, iteration 9: the iteration limit was reached");
    assertThat(names(after)).containsExactly(failed.size() == 1 ? "ckpt-0000000006" : PREVIOUS, "ckpt-0000000009");
    CheckpointState last = CheckpointStore.load(after.resolve("ckpt-0000000009")).state();
    assertThat(last.iteration()).isEqualTo(9);
    assertThat(last.samplesTrained()).isEqualTo(9L * BATCH);
    assertThat(last.cursor().position()).isEqualTo(9L * BATCH);
  }
}
