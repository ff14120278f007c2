package org.alexkafka.ingest.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.alexkafka.ingest.IngestConfig;
import org.alexkafka.ingest.source.UploadSettings;
import org.alexkafka.schemas.Split;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
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
  void aMissingFolderIsAUsageErrorSaidAtOnceWithoutWaitingForKafka() {
    java.io.StringWriter err = new java.io.StringWriter();
    CommandLine cli = new CommandLine(new IngestCommand()).setErr(new java.io.PrintWriter(err));
    long t0 = System.nanoTime();
    // no broker listens on port 1: were Kafka tried first, this would wait for it
    int code = cli.execute("--bootstrap-servers", "127.0.0.1:1", "/no/such/folder");
    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).contains("FOLDER /no/such/folder does not exist");
    assertThat((System.nanoTime() - t0) / 1e9).isLessThan(5.0);
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
    assertThat(c.upload().bindAddress()).as("loopback unless told otherwise").isEqualTo("127.0.0.1");
    assertThat(c.upload().token()).isNull();
    assertThat(c.upload().allowNewClasses()).isTrue();
    assertThat(c.upload().readTimeout()).isEqualTo(Duration.ofSeconds(15));
    assertThat(c.upload().maxConnections()).isEqualTo(256);
  }

  @Test
  void uploadFlagsBecomeTheUploadSettings(@TempDir Path dir) throws Exception {
    IngestCommand cmd = new IngestCommand();
    new CommandLine(cmd).parseArgs("--http-port", "8081", "--http-bind", "0.0.0.0", "--http-token", "abc",
        "--http-new-classes=false", "--http-read-timeout-ms", "2500", "--http-max-connections", "32");
    UploadSettings u = cmd.toConfig().upload();
    assertThat(u.bindAddress()).isEqualTo("0.0.0.0");
    assertThat(u.token()).isEqualTo("abc");
    assertThat(u.toString()).doesNotContain("abc");
    assertThat(u.allowNewClasses()).isFalse();
    assertThat(u.readTimeout()).isEqualTo(Duration.ofMillis(2500));
    assertThat(u.maxConnections()).isEqualTo(32);

    Path secret = Files.writeString(dir.resolve("token"), "  from-a-file\n");
    IngestCommand fromFile = new IngestCommand();
    new CommandLine(fromFile).parseArgs("--http-token-file", secret.toString(), "--http-new-classes");
    assertThat(fromFile.toConfig().upload().token()).isEqualTo("from-a-file");
    assertThat(fromFile.toConfig().upload().allowNewClasses()).isTrue();

    IngestCommand both = new IngestCommand();
    new CommandLine(both).parseArgs("--http-token", "abc", "--http-token-file", secret.toString());
    assertThatThrownBy(both::toConfig).hasMessageContaining("not both");
  }
}
