package org.alexkafka.trainer.support;

import org.alexkafka.trainer.cli.TrainCommand;
import picocli.CommandLine;

/** {@code train} in a JVM of its own: one rank of a data-parallel test run (exit code as the CLI's). */
public final class TrainProcess {

  private TrainProcess() {
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new TrainCommand()).execute(args));
  }
}
