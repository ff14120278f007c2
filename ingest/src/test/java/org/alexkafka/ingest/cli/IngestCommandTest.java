package org.alexkafka.ingest.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.alexkafka.ingest.IngestConfig;
import org.alexkafka.schemas.Split;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class IngestCommandTest {

  @Test
  void flagsBecomeTheConfigRecord() {
    IngestCommand cmd = new IngestCommand();
    new CommandLine(cmd).parseArgs("--bootstrap-servers", "k:9092", "--topic-prefix", "t.", "--watch", "--http-port", "8081",
        "--split", "val", "--synsets", "s.txt", "--image-size", "64", "--max-pixels", "1000", "--seed", "7",
        "--threads", "3", "--no-progress", "photos");
    IngestConfig c = cmd.toConfig();
    assertThat(c.kafka().bootstrapServers()).isEqualTo("k:9092");
    assertThat(c.kafka().topics().images()).isEqualTo("t.images");
    assertThat(c.folder()).isEqualTo(Path.of("photos"));
    assertThat(c.watch()).isTrue();
    assertThat(c.httpPort()).isEqualTo(8081);
    assertThat(c.defaultSplit()).isEqualTo(Split.VAL);
    assertThat(c.synsets()).isEqualTo(Path.of("s.txt"));
    assertThat(c.imageSize()).isEqualTo(64);
    assertThat(c.maxPixels()).isEqualTo(1000);
    assertThat(c.seed()).isEqualTo(7);
    assertThat(c.threads()).isEqualTo(3);
    assertThat(c.progress()).isFalse();
  }

  @Test
  void defaultsAreThePapers() {
    IngestCommand cmd = new IngestCommand();
    new CommandLine(cmd).parseArgs();
    IngestConfig c = cmd.toConfig();
    assertThat(c.imageSize()).isEqualTo(256);
    assertThat(c.defaultSplit()).isEqualTo(Split.TRAIN);
    assertThat(c.folder()).isNull();
    assertThat(c.synsets()).isNull();
    assertThat(c.httpPort()).isEqualTo(-1);
    assertThat(c.compression()).isEqualTo("none");
  }
}
