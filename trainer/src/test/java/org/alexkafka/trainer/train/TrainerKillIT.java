package org.alexkafka.trainer.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.alexkafka.schemas.topics.Topics;
import org.alexkafka.trainer.checkpoint.CheckpointState;
import org.alexkafka.trainer.checkpoint.CheckpointStore;
import org.alexkafka.trainer.data.SampleRef;
import org.alexkafka.trainer.support.ChildJvm;
import org.alexkafka.trainer.support.RecordingTrainProcess;
import org.alexkafka.trainer.support.TestData;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trainer as a real process killed with SIGKILL, once mid-epoch and once in the middle of
 * writing a checkpoint, and restarted each time, on real photos from the embedded broker. Every
 * trained batch is recorded by the child (flushed to disk before its next step, {@link
 * RecordingTrainProcess}), so what each process trained before it died is known exactly.
 *
 * <p>What must hold: each restart resumes from the newest complete checkpoint; the batches
 * trained after that checkpoint and lost with the process are trained again, the same ones
 * (at-least-once between checkpoints); and the batches that count, those up to each checkpoint a
 * run resumed from plus the last run's, are every sample of the epoch exactly once. A checkpoint
 * cut short is never read, and is removed by the next save.
 */
@EnabledOnOs(OS.LINUX) // SIGSTOP / SIGKILL and /proc
class TrainerKillIT {

  private static final Logger log = LoggerFactory.getLogger(TrainerKillIT.class);
  private static final int CLASSES = 4;
  private static final int IMAGE = 72;
  private static final int CROP = 64;
  private static final int BATCH = 32;
  private static final int SAMPLES = CLASSES * 40 * 2; // 320: an epoch of 10 batches
  private static final int ITERATIONS = SAMPLES / BATCH;
  private static Topics topics;

  @TempDir
  Path tmp;

  @BeforeAll
  static void publish() throws Exception {
    topics = TestData.freshTopics("trainer-kill-it");
    List<TestData.SmallImage> train = TestData.imagenette("train", CLASSES, 40, IMAGE);
    // plain (non-transactional) records: the epoch is every offset of every partition, no markers between
    TestData.publish(topics.samplesTrain(), TestData.trainSamples(train, IMAGE, CROP, 2, 3));
    TestData.publish(topics.samplesVal(), TestData.valViews(TestData.imagenette("val", CLASSES, 2, IMAGE), IMAGE, CROP));
    TestData.publishStats(topics.stats(), TestData.stats(train, IMAGE));
  }

  private List<String> flags(Path checkpoints, int checkpointEvery) {
    return List.of("--bootstrap-servers", TestData.bootstrap(), "--topic-prefix", topics.prefix(), "--engine", "dl4j",
        "--profile", "small", "--classes", String.valueOf(CLASSES), "--crop-size", String.valueOf(CROP), "--batch",
        String.valueOf(BATCH), "--epochs", "1", "--checkpoint-dir", checkpoints.toString(), "--checkpoint-every",
        String.valueOf(checkpointEvery), "--keep-checkpoints", "3", "--run-dir", tmp.resolve("run").toString(),
        "--eval-each-epoch", "false", "--shuffle-buffer", "64", "--lr", "0.01", "--seed", "11", "--log-every", "5",
        "--stats-timeout", "60");
  }

  private Process train(Path checkpoints, int checkpointEvery, Path batches, Path logFile) throws Exception {
    return ChildJvm.start(ChildJvm.command(RecordingTrainProcess.class, List.of("trained.batches=" + batches),
        flags(checkpoints, checkpointEvery)), logFile);
  }

  /** The batches a child recorded, by iteration, in order (a line cut short by the kill is not a batch). */
  private static Map<Long, List<SampleRef>> batches(Path file) throws Exception {
    Map<Long, List<SampleRef>> out = new LinkedHashMap<>();
    if (!Files.exists(file)) {
      return out;
    }
    String text = Files.readString(file);
    for (String line : text.substring(0, text.lastIndexOf('\n') + 1).split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      String[] f = line.split(" ");
      List<SampleRef> refs = new ArrayList<>();
      for (int i = 1; i < f.length; i++) {
        String[] po = f[i].split(":");
        refs.add(new SampleRef(Integer.parseInt(po[0]), Long.parseLong(po[1])));
      }
      assertThat(out.put(Long.parseLong(f[0]), refs)).as("iteration " + f[0] + " recorded twice in " + file).isNull();
    }
    return out;
  }

  private static long lastIteration(Map<Long, List<SampleRef>> batches) {
    return batches.keySet().stream().mapToLong(Long::longValue).max().orElse(0);
  }

  private static List<SampleRef> upTo(Map<Long, List<SampleRef>> batches, long iteration) {
    return batches.entrySet().stream().filter(e -> e.getKey() <= iteration).flatMap(e -> e.getValue().stream()).toList();
  }

  private static Set<String> names(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(java.util.TreeSet::new));
    }
  }

  /** Every sample of samples.train: all offsets below each partition's end (the topic is not transactional). */
  private static Set<SampleRef> everySample() throws Exception {
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, TestData.bootstrap()))) {
      int partitions = admin.describeTopics(List.of(topics.samplesTrain())).allTopicNames().get()
          .get(topics.samplesTrain()).partitions().size();
      Map<TopicPartition, OffsetSpec> ask = new LinkedHashMap<>();
      for (int p = 0; p < partitions; p++) {
        ask.put(new TopicPartition(topics.samplesTrain(), p), OffsetSpec.latest());
      }
      Set<SampleRef> all = new HashSet<>();
      admin.listOffsets(ask).all().get().forEach((tp, info) -> {
        for (long o = 0; o < info.offset(); o++) {
          all.add(new SampleRef(tp.partition(), o));
        }
      });
      return all;
    }
  }

  /** Waits until the child has recorded its first batch; returns the seconds from its start. */
  private static double firstBatchAfter(long startedNanos, Path batches, Process p, Path logFile) throws Exception {
    long deadline = startedNanos + TimeUnit.SECONDS.toNanos(180);
    while (batches(batches).isEmpty()) {
      assertThat(p.isAlive()).as("the trainer ended before its first batch:\n" + ChildJvm.tail(logFile)).isTrue();
      assertThat(System.nanoTime()).as("no batch within 180 s:\n" + ChildJvm.tail(logFile)).isLessThan(deadline);
      Thread.sleep(10);
    }
    return (System.nanoTime() - startedNanos) / 1e9;
  }

  @Test
  void killedMidEpochThenMidCheckpointItResumesFromTheNewestCompleteCheckpointAndTheEpochTrainsEverySampleOnce()
      throws Exception {
    Path ckpt = Files.createDirectories(tmp.resolve("ckpt"));
    CheckpointStore store = new CheckpointStore(ckpt, 3);
    Set<SampleRef> epoch = everySample();
    assertThat(epoch).hasSize(SAMPLES);

    // run 1: a checkpoint every 3 iterations; SIGKILL once a batch or two past a checkpoint (4, 5, 7 or 8)
    Path batches1 = tmp.resolve("batches-1.txt");
    Path log1 = tmp.resolve("run-1.log");
    long t1 = System.nanoTime();
    Process run1 = train(ckpt, 3, batches1, log1);
    double firstBatch1 = firstBatchAfter(t1, batches1, run1, log1);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
    long at;
    while ((at = lastIteration(batches(batches1))) < 4 || at % 3 == 0) {
      assertThat(run1.isAlive()).as("run 1 ended before it was killed:\n" + ChildJvm.tail(log1)).isTrue();
      assertThat(System.nanoTime()).as("run 1 did not reach iteration 4 in 180 s").isLessThan(deadline);
      Thread.sleep(5);
    }
    run1.destroyForcibly(); // SIGKILL
    assertThat(run1.waitFor()).isEqualTo(137);
    Map<Long, List<SampleRef>> trained1 = batches(batches1);
    CheckpointState c1 = CheckpointStore.load(store.latest().orElseThrow()).state();
    log.info("run 1: first batch {} s after start; SIGKILLed after iteration {}; newest checkpoint: iteration {}",
        String.format("%.1f", firstBatch1), lastIteration(trained1), c1.iteration());
    assertThat(trained1.keySet()).containsExactlyElementsOf(
        Stream.iterate(1L, i -> i <= lastIteration(trained1), i -> i + 1).toList());
    assertThat(c1.iteration() % 3).isZero();
    assertThat(c1.iteration()).isPositive();
    assertThat(lastIteration(trained1) - c1.iteration()).as("batches trained after the checkpoint, lost with the process")
        .isBetween(1L, 3L);
    assertThat(c1.samplesTrained()).isEqualTo(c1.iteration() * BATCH);
    assertThat(c1.cursor().epoch()).isEqualTo(1);
    assertThat(c1.cursor().position()).isEqualTo(c1.iteration() * BATCH);

    // run 2: a checkpoint every iteration. When a save creates its folder the process is stopped (SIGSTOP),
    // the folder watched, the process let go on (SIGCONT); at the first write into the folder it is stopped
    // again and, the save still in progress (its folder not yet renamed into place), SIGKILLed there
    Path batches2 = tmp.resolve("batches-2.txt");
    Path log2 = tmp.resolve("run-2.log");
    Path partial = null;
    Map<String, Long> partialFiles = new TreeMap<>();
    int attempts = 0;
    double firstBatch2;
    try (WatchService watch = FileSystems.getDefault().newWatchService(); ChildJvm.Signaller signals = new ChildJvm.Signaller()) {
      ckpt.register(watch, StandardWatchEventKinds.ENTRY_CREATE);
      long t2 = System.nanoTime();
      Process run2 = train(ckpt, 1, batches2, log2);
      firstBatch2 = firstBatchAfter(t2, batches2, run2, log2);
      deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
      Path saving = null; // the folder of the save being watched
      while (partial == null) {
        assertThat(run2.isAlive()).as("run 2 ended before a save was caught in progress (" + attempts + " tries):\n"
            + ChildJvm.tail(log2)).isTrue();
        assertThat(System.nanoTime()).as("no save caught in 180 s").isLessThan(deadline);
        WatchKey key = watch.poll(100, TimeUnit.MILLISECONDS);
        if (key == null) {
          continue;
        }
        Path dir = (Path) key.watchable();
        for (WatchEvent<?> e : key.pollEvents()) {
          String name = String.valueOf(e.context());
          if (partial != null) {
            break;
          }
          if (dir.equals(ckpt) && name.startsWith(".writing-") && !name.startsWith(".writing-replaced-")) {
            signals.stop(run2);
            Path folder = ckpt.resolve(name);
            if (Files.isDirectory(folder)) {
              folder.register(watch, StandardWatchEventKinds.ENTRY_MODIFY);
              saving = folder;
            }
            signals.resume(run2);
          } else if (dir.equals(saving) && e.kind() == StandardWatchEventKinds.ENTRY_MODIFY) {
            signals.stop(run2);
            attempts++;
            if (Files.isDirectory(saving)) {
              partial = saving;
              try (Stream<Path> s = Files.list(saving)) {
                for (Path f : s.toList()) {
                  partialFiles.put(f.getFileName().toString(), Files.size(f));
                }
              }
              run2.destroyForcibly(); // SIGKILL, stopped in the middle of the save
              assertThat(run2.waitFor()).isEqualTo(137);
            } else {
              saving = null; // renamed into place before the stop: let it go on to the next save
              signals.resume(run2);
            }
          }
        }
        key.reset();
      }
    }
    Map<Long, List<SampleRef>> trained2 = batches(batches2);
    long caught = lastIteration(trained2); // the batch whose checkpoint was being written
    Path c2dir = store.latest().orElseThrow();
    CheckpointState c2 = CheckpointStore.load(c2dir).state();
    log.info("run 2: first batch {} s after start; SIGKILLed while writing the checkpoint of iteration {} (try {}), "
        + "its folder holding {} (a complete one: parameters.npz {} bytes); newest complete checkpoint: iteration {}",
        String.format("%.1f", firstBatch2), caught, attempts, partialFiles, Files.size(c2dir.resolve("parameters.npz")),
        c2.iteration());
    assertThat(Files.readString(log2)).contains("resuming from " + ckpt.resolve(String.format("ckpt-%010d", c1.iteration()))
        + ": epoch 1, iteration " + c1.iteration() + ",");
    assertThat(trained2.keySet()).first().isEqualTo(c1.iteration() + 1);
    // the batches lost with run 1 are trained again: the same samples, in the same order
    for (long i = c1.iteration() + 1; i <= lastIteration(trained1); i++) {
      assertThat(trained2.get(i)).as("iteration " + i + " again after the restart").isEqualTo(trained1.get(i));
    }
    assertThat(partial).exists(); // cut short, and not a checkpoint: not listed, not read
    assertThat(partialFiles).as("what the save had written when it was killed").containsKey("parameters.npz");
    assertThat(partialFiles.get("parameters.npz")).isPositive()
        .isLessThanOrEqualTo(Files.size(c2dir.resolve("parameters.npz")));
    assertThat(store.list()).doesNotContain(partial).allSatisfy(p -> assertThat(p.getFileName().toString()).startsWith("ckpt-"));
    assertThat(c2.iteration()).isEqualTo(caught - 1);
    assertThat(c2.samplesTrained()).isEqualTo(c2.iteration() * BATCH);
    assertThat(c2.cursor().position()).isEqualTo(c2.iteration() * BATCH);

    // run 3: to the end of the epoch
    Path batches3 = tmp.resolve("batches-3.txt");
    Path log3 = tmp.resolve("run-3.log");
    long t3 = System.nanoTime();
    Process run3 = train(ckpt, 3, batches3, log3);
    double firstBatch3 = firstBatchAfter(t3, batches3, run3, log3);
    assertThat(ChildJvm.waitFor(run3, log3, 180)).as(ChildJvm.tail(log3)).isZero();
    double total3 = (System.nanoTime() - t3) / 1e9;
    String out3 = Files.readString(log3);
    Map<Long, List<SampleRef>> trained3 = batches(batches3);
    assertThat(out3).contains("resuming from " + c2dir + ": epoch 1, iteration " + c2.iteration() + ",");
    assertThat(out3).contains("removing " + partial + ", left by a checkpoint save that did not finish");
    assertThat(partial).doesNotExist();
    assertThat(names(ckpt)).allMatch(n -> n.startsWith("ckpt-"));
    assertThat(trained3.keySet()).containsExactlyElementsOf(
        Stream.iterate(c2.iteration() + 1, i -> i <= ITERATIONS, i -> i + 1).toList());
    CheckpointState end = CheckpointStore.load(store.latest().orElseThrow()).state();
    assertThat(end.iteration()).isEqualTo(ITERATIONS);
    assertThat(end.samplesTrained()).isEqualTo(SAMPLES);
    assertThat(end.ended()).isEqualTo(RunEnd.EPOCHS_DONE);
    assertThat(end.cursor().epoch()).isEqualTo(2); // epoch 1 done

    // the epoch, as it counts: run 1 up to its checkpoint, run 2 up to its checkpoint, then run 3
    List<SampleRef> counted = new ArrayList<>(upTo(trained1, c1.iteration()));
    counted.addAll(upTo(trained2, c2.iteration()));
    counted.addAll(upTo(trained3, ITERATIONS));
    assertThat(counted).hasSize(SAMPLES).doesNotHaveDuplicates();
    assertThat(new HashSet<>(counted)).isEqualTo(epoch);
    long retrained = lastIteration(trained1) - c1.iteration() + caught - c2.iteration();
    log.info("run 3: first batch {} s after start, done in {} s; the epoch: {} samples once each, {} batches trained "
        + "twice (after a checkpoint, before a kill)", String.format("%.1f", firstBatch3), String.format("%.1f", total3),
        counted.size(), retrained);
    assertThat(upTo(trained1, Long.MAX_VALUE).size() + upTo(trained2, Long.MAX_VALUE).size() + upTo(trained3, ITERATIONS).size())
        .isEqualTo(SAMPLES + (int) retrained * BATCH);
  }
}
