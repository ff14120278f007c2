package org.alexkafka.pipeline.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Prints the configuration table the README shows (flags, environment variables, defaults). */
@Command(name = "config-table", mixinStandardHelpOptions = true,
    description = "Print every service's options as the Markdown table in the README.")
final class ConfigTableCommand implements Callable<Integer> {

  @Override
  public Integer call() {
    System.out.print(ConfigTable.markdown(AlexKafkaCli.commandLine()));
    return 0;
  }
}
