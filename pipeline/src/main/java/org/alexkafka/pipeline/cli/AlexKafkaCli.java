package org.alexkafka.pipeline.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The one command line of the distribution: a subcommand per service, plus the all-in-one run. */
@Command(name = "alexkafka", mixinStandardHelpOptions = true, version = "alexkafka 0.1.0",
    description = "AlexNet (Krizhevsky et al., 2012) on Apache Kafka: ingest, augment, train.",
    subcommands = {BrokerCommand.class, TopicsCommand.class, CommandLine.HelpCommand.class})
public final class AlexKafkaCli {

  public static void main(String[] args) {
    System.exit(new CommandLine(new AlexKafkaCli()).execute(args));
  }
}
