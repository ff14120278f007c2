package org.alexkafka.ingest.source;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.alexkafka.schemas.Split;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FolderWatcherTest {

  @Test
  void aFileIsHandedOverOnlyOnceItStopsChanging(@TempDir Path dir) throws Exception {
    List<SourceFile> ready = new ArrayList<>();
    List<Path> misplaced = new ArrayList<>();
    FolderWatcher watcher = new FolderWatcher(dir, Split.TRAIN, Duration.ofSeconds(1), ready::add, misplaced::add);
    Path file = Files.createDirectories(dir.resolve("val/n01440764")).resolve("a.jpg");
    Files.write(file, new byte[100]);
    watcher.poll();
    assertThat(ready).as("seen once: maybe still being written").isEmpty();
    Files.write(file, new byte[100], StandardOpenOption.APPEND); // the writer goes on
    watcher.poll();
    assertThat(ready).as("it grew since the last look").isEmpty();
    watcher.poll();
    assertThat(ready).containsExactly(new SourceFile(file, "n01440764", Split.VAL));
    watcher.poll();
    assertThat(ready).as("handed over once").hasSize(1);
    Files.write(dir.resolve("loose.jpg"), new byte[1]);
    Files.write(dir.resolve(".hidden"), new byte[1]);
    watcher.poll();
    watcher.poll();
    assertThat(misplaced).containsExactly(dir.resolve("loose.jpg"));
  }

  @Test
  void theLayoutGivesClassAndSplit() {
    Path root = Path.of("/data");
    assertThat(ImageNetLayout.place(root, root.resolve("n1/a.jpg"), Split.VAL)).contains(new SourceFile(root.resolve("n1/a.jpg"), "n1", Split.VAL));
    assertThat(ImageNetLayout.place(root, root.resolve("train/n1/a.jpg"), Split.VAL)).contains(new SourceFile(root.resolve("train/n1/a.jpg"), "n1", Split.TRAIN));
    assertThat(ImageNetLayout.place(root, root.resolve("val/n1/a.jpg"), Split.TRAIN).orElseThrow().split()).isEqualTo(Split.VAL);
    assertThat(ImageNetLayout.place(root, root.resolve("a.jpg"), Split.TRAIN)).isEmpty();
    assertThat(ImageNetLayout.place(root, root.resolve("train/a.jpg"), Split.TRAIN)).isEmpty();
    assertThat(ImageNetLayout.place(root, root.resolve("x/y/z/a.jpg"), Split.TRAIN)).isEmpty();
  }
}
