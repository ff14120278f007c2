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

  @Test
  void theReadmeShowsTheCurrentConfigurationTable() throws Exception {
    Path root = Path.of("").toAbsolutePath();
    while (!Files.exists(root.resolve("README.md"))) {
      root = root.getParent();
    }
    String readme = Files.readString(root.resolve("README.md"));
    assertThat(readme).as("README table is stale: regenerate it with `bin/alexkafka config-table`")
        .contains(ConfigTable.markdown(AlexKafkaCli.commandLine()));
  }
}
