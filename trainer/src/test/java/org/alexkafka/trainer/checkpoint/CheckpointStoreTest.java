package org.alexkafka.trainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.alexkafka.trainer.data.Cursor;
import org.alexkafka.trainer.engine.ParameterInit;
import org.alexkafka.trainer.engine.ParameterLayout;
import org.alexkafka.trainer.engine.Tensors;
import org.alexkafka.trainer.engine.dl4j.Dl4jEngine;
import org.alexkafka.trainer.model.AlexNetSpec;
import org.alexkafka.trainer.train.LearningRateSchedule;
import org.alexkafka.trainer.train.RunEnd;
import org.alexkafka.trainer.train.TrainerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a save that crashed leaves behind is never read as a checkpoint, and the next save removes it. */
class CheckpointStoreTest {

  @Test
  void anUnfinishedSaveIsIgnoredThenRemoved(@TempDir Path root) throws Exception {
    Path crashed = Files.createDirectories(root.resolve(CheckpointStore.WRITING_PREFIX + "12345"));
    Files.writeString(crashed.resolve("state.json"), "{\"formatVersion\": 1, \"iter"); // cut short
    Files.write(crashed.resolve("parameters.npz"), new byte[] {1, 2, 3});
    CheckpointStore store = new CheckpointStore(root, 2);
    assertThat(store.list()).isEmpty();
    assertThat(store.latest()).isEmpty();

    TrainerConfig config = TrainerConfig.defaults(root.toString(), root.resolve("run").toString());
    AlexNetSpec spec = config.spec();
    Dl4jEngine engine = new Dl4jEngine(spec, 1);
    Tensors momentum = ParameterInit.of(spec.withSeed(99)); // any values: they must come back as saved
    engine.load(engine.parameters(), momentum);
    Cursor cursor = new Cursor(1, Map.of(0, 40L), 8, 64, 1024);
    CheckpointState state = new CheckpointState(CheckpointState.FORMAT_VERSION, 5, 1, 40, 0.01,
        new LearningRateSchedule.State(0.01, Double.NaN, 0, 0), cursor,
        config, 7, "now", RunEnd.PLATEAU);
    Path saved = store.save(engine, state);

    assertThat(crashed).doesNotExist();
    try (var entries = Files.list(root)) {
      assertThat(entries.map(p -> p.getFileName().toString())).containsExactly("ckpt-0000000005");
    }
    CheckpointStore.Loaded loaded = CheckpointStore.load(root);
    assertThat(loaded.dir()).isEqualTo(saved);
    assertThat(loaded.state().cursor()).isEqualTo(cursor);
    assertThat(loaded.state()).isEqualTo(state); // every field, the schedule's settings and the run's end included
    assertThat(loaded.parameters().maxRelativeError(engine.parameters(), 1e-30)).isZero();
    assertThat(loaded.momentum().maxRelativeError(momentum, 1e-30)).isZero();
    // the arrays are plain .npz: the layout's names and shapes, readable without this project
    Map<String, Npy.Array> raw = Npz.read(saved.resolve(CheckpointStore.PARAMETERS));
    assertThat(raw.keySet()).containsExactlyElementsOf(ParameterLayout.of(spec).stream().map(ParameterLayout.Entry::name).toList());
    assertThat(raw.get("fc6.weight").shape()).containsExactly(4096, 256 * 6 * 6);
  }
}
