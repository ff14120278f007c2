package org.alexkafka.trainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.alexkafka.trainer.data.Cursor;
import org.alexkafka.trainer.data.ShuffledEpoch;
import org.alexkafka.trainer.engine.EngineKind;
import org.alexkafka.trainer.engine.ParameterInit;
import org.alexkafka.trainer.engine.dl4j.Dl4jEngine;
import org.alexkafka.trainer.train.LearningRateSchedule;
import org.alexkafka.trainer.train.RunEnd;
import org.alexkafka.trainer.train.Profile;
import org.alexkafka.trainer.train.TrainerConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The save path's own cases: the same iteration saved twice, a replacement cut short by a crash, a
 * save the OS refuses (the disk-full cases, with a real OS, are in {@link CheckpointFaultsIT}).
 */
class CheckpointStoreSaveTest {

  private static TrainerConfig config;
  private static Dl4jEngine engine;

  @TempDir
  Path root;

  @BeforeAll
  static void smallNetwork() {
    config = TrainerConfig.builder().profile(Profile.SMALL).classes(4).cropSize(64).batchSize(32).epochs(1)
        .checkpointDir("unused").checkpointEvery(0).shuffleBuffer(64).seed(7).runDir("unused").logEvery(10)
        .evalEachEpoch(false).statsTimeoutSeconds(30).build();
    engine = new Dl4jEngine(config.spec(), 1);
  }

  @AfterAll
  static void close() {
    engine.close();
  }

  private static CheckpointState state(long iteration, RunEnd ended) {
    return new CheckpointState(CheckpointState.FORMAT_VERSION, iteration, 1, iteration * 32, 0.01,
        new LearningRateSchedule.State(0.01, Double.NaN, 0, 0), new Cursor(1, Map.of(0, 320L), iteration * 32, 8, 64),
        config, 7, "now", ended);
  }

  private List<String> names() throws Exception {
    try (Stream<Path> s = Files.list(root)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void theSameIterationSavedAgainReplacesTheCheckpointAndLeavesNothingElse() throws Exception {
    CheckpointStore store = new CheckpointStore(root, 3);
    store.save(engine, state(10, null));
    engine.load(engine.parameters(), ParameterInit.of(config.spec().withSeed(3))); // other momentum: the second save differs
    Path again = store.save(engine, state(10, RunEnd.EPOCHS_DONE));

    assertThat(names()).containsExactly("ckpt-0000000010");
    CheckpointStore.Loaded loaded = CheckpointStore.load(again);
    assertThat(loaded.state().ended()).isEqualTo(RunEnd.EPOCHS_DONE);
    assertThat(loaded.momentum().maxRelativeError(engine.momentum(), 1e-30)).isZero();
  }

  @Test
  void aCheckpointMovedAsideByAReplacementThatDiedIsPutBackByTheNextSave() throws Exception {
    CheckpointStore store = new CheckpointStore(root, 3);
    Path saved = store.save(engine, state(10, null));
    // the process died between moving ckpt-10 aside and renaming the new one into place
    Files.move(saved, root.resolve(CheckpointStore.REPLACED_PREFIX + saved.getFileName()));
    assertThat(store.list()).isEmpty(); // never read as a checkpoint

    store.save(engine, state(12, null));
    assertThat(names()).containsExactly("ckpt-0000000010", "ckpt-0000000012");
    assertThat(CheckpointStore.load(root.resolve("ckpt-0000000010")).state().iteration()).isEqualTo(10);
  }

  @Test
  void aSaveTheOsRefusesSaysWhatAndWhere() throws Exception {
    Path notADirectory = Files.writeString(root.resolve("checkpoints"), "a file where the directory should be");
    assertThatThrownBy(() -> new CheckpointStore(notADirectory, 3).save(engine, state(5, null)))
        .isInstanceOf(CheckpointStore.SaveFailed.class)
        .hasMessage("checkpoint ckpt-0000000005 not written: a file of that name is in the way (writing " + notADirectory
            + "); there is no earlier checkpoint in " + notADirectory);
  }
}
