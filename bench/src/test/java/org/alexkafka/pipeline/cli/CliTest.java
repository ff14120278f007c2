package org.alexkafka.pipeline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class CliTest {

  @Test
  void theFullDistributionHasEveryServiceAndBenchCommand() {
    CommandLine cli = AlexKafkaCli.commandLine();
    assertThat(cli.getSubcommands().keySet()).contains("run", "broker", "topics", "ingest", "augment", "train", "evaluate",
        "render-samples", "bench-decode", "bench-augment", "bench-train", "config-table");
    for (String className : AlexKafkaCli.SERVICE_COMMANDS) {
      assertThat(cli.getSubcommands().values()).as(className + " is registered")
          .anyMatch(sub -> sub.getCommandSpec().userObject().getClass().getName().equals(className));
    }
  }

  @Test
  void everyServiceOptionReadsAFlagAndAnEnvironmentVariable() {
    for (ConfigTable.Row row : ConfigTable.rows(AlexKafkaCli.commandLine())) {
      if (!row.command().startsWith("bench") && !row.command().equals("render-samples") && !row.flag().startsWith("--no-")) {
        assertThat(row.env()).as(row.command() + " " + row.flag()).isNotEmpty();
      }
    }
  }

  /** Options shared by every service (one cluster, one metrics port), and torchrun's own names. */
  private static final java.util.Set<String> SHARED = java.util.Set.of("BOOTSTRAP_SERVERS", "TOPIC_PREFIX", "KAFKA_CONFIG",
      "REPLICATION_FACTOR", "METRICS_PORT", "ALEXKAFKA_VERBOSE", "RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR",
      "MASTER_PORT");

  @Test
  void eachServiceReadsItsVariablesUnderOnePrefixNamedAfterTheFlag() {
    java.util.Map<String, String> prefixes = java.util.Map.of("broker", "BROKER", "topics", "TOPICS", "run", "RUN",
        "ingest", "INGEST", "augment", "AUGMENT", "train", "TRAIN", "evaluate", "EVAL", "render-samples", "RENDER");
    int checked = 0;
    for (ConfigTable.Row row : ConfigTable.rows(AlexKafkaCli.commandLine())) {
      String prefix = prefixes.get(row.command());
      if (prefix == null || row.env().isEmpty() || SHARED.contains(row.env())) {
        continue;
      }
      String expected = prefix + "_" + row.flag().replaceFirst("^--", "").replace('-', '_').toUpperCase(java.util.Locale.ROOT);
      assertThat(row.env()).as(row.command() + " " + row.flag()).isEqualTo(expected);
      checked++;
    }
    assertThat(checked).isGreaterThan(80);
  }

  @Test
  void optionsEveryServiceSharesAreTakenAfterTheSubcommandToo() {
    CommandLine cli = AlexKafkaCli.commandLine();
    cli.parseArgs("train", "--metrics-port", "9555", "--verbose");
    AlexKafkaCli root = cli.getCommand();
    assertThat(root.metricsPort).isEqualTo(9555);
    assertThat(root.verbose).isTrue();
    CommandLine before = AlexKafkaCli.commandLine();
    before.parseArgs("--metrics-port", "9556", "ingest", "--help");
    assertThat(((AlexKafkaCli) before.getCommand()).metricsPort).isEqualTo(9556);
    assertThat(ConfigTable.rows(cli).stream().filter(r -> r.flag().equals("--metrics-port")).count())
        .as("listed once, for all commands").isEqualTo(1);
  }

  @Test
  void helpNamesPlaceholdersAfterTheFlagsAndShowsEveryDefault() {
    CommandLine cli = AlexKafkaCli.commandLine();
    String help = cli.getSubcommands().get("train").getUsageMessage(CommandLine.Help.Ansi.OFF);
    assertThat(help).contains("--checkpoint-dir=<checkpoint-dir>").doesNotContain("<checkpointDir>")
        .containsPattern("--batch=<batch>\\s+GLOBAL batch size[^\\n]*\\n?[^\\n]*\\(env TRAIN_BATCH; default 128\\)")
        .contains("paper, small");
    assertThat(ConfigTable.markdown(cli)).doesNotContain("${COMPLETION-CANDIDATES}");
  }

  @Test
  void theReadmeShowsTheCurrentConfigurationTable() throws Exception {
    Path root = Path.of("").toAbsolutePath();
    while (!Files.exists(root.resolve("mvnw"))) { // the repository root (bench/ has a README of its own)
      root = root.getParent();
    }
    String readme = Files.readString(root.resolve("README.md"));
    assertThat(readme).as("README table is stale: regenerate it with `bin/alexkafka config-table`")
        .contains(ConfigTable.markdown(AlexKafkaCli.commandLine()));
  }
}
