package org.alexkafka.trainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.alexkafka.trainer.data.Cursor;
import org.alexkafka.trainer.model.AlexNet;
import org.alexkafka.trainer.model.AlexNetSpec;
import org.alexkafka.trainer.train.LearningRateSchedule;
import org.alexkafka.trainer.train.RunEnd;
import org.alexkafka.trainer.train.TrainerConfig;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a save that crashed leaves behind is never read as a checkpoint, and the next save removes it. */
class CheckpointStoreTest {

  @Test
  void anUnfinishedSaveIsIgnoredThenRemoved(@TempDir Path root) throws Exception {
    Path crashed = Files.createDirectories(root.resolve(CheckpointStore.WRITING_PREFIX + "12345"));
    Files.writeString(crashed.resolve("state.json"), "{\"formatVersion\": 1, \"iter"); // cut short
    Files.write(crashed.resolve("model.zip"), new byte[] {1, 2, 3});
    CheckpointStore store = new CheckpointStore(root, 2);
    assertThat(store.list()).isEmpty();
    assertThat(store.latest()).isEmpty();

    ComputationGraph net = AlexNet.build(AlexNetSpec.small(3, 64));
    Cursor cursor = new Cursor(1, Map.of(0, 40L), 8, 64, 1024);
    CheckpointState state = new CheckpointState(CheckpointState.FORMAT_VERSION, 5, 1, 40, 0.01,
        new LearningRateSchedule.State(0.01, Double.NaN, 0, 0), cursor,
        TrainerConfig.defaults(root.toString(), root.resolve("run").toString()), 7, "now", RunEnd.PLATEAU);
    Path saved = store.save(net, state);

    assertThat(crashed).doesNotExist();
    try (var entries = Files.list(root)) {
      assertThat(entries.map(p -> p.getFileName().toString())).containsExactly("ckpt-0000000005");
    }
    CheckpointStore.Loaded loaded = CheckpointStore.load(root);
    assertThat(loaded.dir()).isEqualTo(saved);
    assertThat(loaded.state().cursor()).isEqualTo(cursor);
    assertThat(loaded.state()).isEqualTo(state); // every field, the schedule's settings and the run's end included
    assertThat(loaded.net().params()).isEqualTo(net.params());
  }
}
