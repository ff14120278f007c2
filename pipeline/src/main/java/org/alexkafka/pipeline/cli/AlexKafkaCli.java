package org.alexkafka.pipeline.cli;

import java.util.List;
import java.util.concurrent.Callable;
import org.alexkafka.pipeline.metrics.PrometheusEndpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The one command line of the distribution: a subcommand per service, the benches, and the
 * all-in-one run. Service subcommands are found by class name so that a slim image (ingest or
 * augment, without ND4J's natives) runs the same launcher and simply lacks the trainer's commands.
 */
@Command(name = "alexkafka", mixinStandardHelpOptions = true, version = "alexkafka 0.1.0",
    description = "AlexNet (Krizhevsky et al., 2012) on Apache Kafka: ingest, augment, train.",
    subcommands = {BrokerCommand.class, TopicsCommand.class, ConfigTableCommand.class, CommandLine.HelpCommand.class})
public final class AlexKafkaCli implements Callable<Integer> {

  private static final Logger log = LoggerFactory.getLogger(AlexKafkaCli.class);

  /** Service and bench commands, in the order `--help` lists them. */
  static final List<String> SERVICE_COMMANDS = List.of(
      "org.alexkafka.pipeline.run.RunCommand",
      "org.alexkafka.ingest.cli.IngestCommand",
      "org.alexkafka.augment.cli.AugmentCommand",
      "org.alexkafka.trainer.cli.TrainCommand",
      "org.alexkafka.trainer.cli.EvaluateCommand",
      "org.alexkafka.augment.render.RenderSamples",
      "org.alexkafka.ingest.bench.DecodeBench",
      "org.alexkafka.augment.bench.AugmentBench",
      "org.alexkafka.trainer.bench.TrainSpeedBench",
      "org.alexkafka.pipeline.bench.LearnBench",
      "org.alexkafka.pipeline.bench.FeedBench");

  @Option(names = "--metrics-port", defaultValue = "${env:METRICS_PORT:--1}",
      description = "Serve Prometheus metrics at http://host:PORT/metrics (env METRICS_PORT; -1 = off, the default).")
  int metricsPort;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(System.out);
    return 0;
  }

  public static void main(String[] args) {
    selectNativeBuild();
    System.exit(commandLine().execute(args));
  }

  /**
   * Chooses ND4J's native build for this CPU (AVX-512 / AVX2 / generic) before anything loads ND4J.
   * By name, because slim distributions (ingest, augment) carry no trainer.
   */
  private static void selectNativeBuild() {
    try {
      Class.forName("org.alexkafka.trainer.engine.dl4j.speed.NativeBuildSelector").getMethod("selectBeforeNd4jLoads").invoke(null);
    } catch (ClassNotFoundException | NoClassDefFoundError e) {
      log.debug("no trainer in this distribution: no native build to choose");
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot choose the ND4J native build", e);
    }
  }

  /** The CLI with every subcommand whose classes are on the class path. */
  public static CommandLine commandLine() {
    AlexKafkaCli root = new AlexKafkaCli();
    CommandLine cli = new CommandLine(root);
    for (String className : SERVICE_COMMANDS) {
      try {
        cli.addSubcommand(Class.forName(className).getDeclaredConstructor().newInstance());
      } catch (ClassNotFoundException | NoClassDefFoundError e) {
        log.debug("subcommand {} is not in this distribution", className);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("cannot create subcommand " + className, e);
      }
    }
    cli.setExecutionStrategy(parseResult -> {
      if (root.metricsPort < 0) {
        return new CommandLine.RunLast().execute(parseResult);
      }
      try (PrometheusEndpoint endpoint = PrometheusEndpoint.start(root.metricsPort)) {
        log.info("Prometheus metrics at http://0.0.0.0:{}/metrics", endpoint.port());
        return new CommandLine.RunLast().execute(parseResult);
      } catch (java.io.IOException e) {
        throw new CommandLine.ExecutionException(cli, "cannot serve metrics on port " + root.metricsPort + ": " + e.getMessage(), e);
      }
    });
    return cli;
  }
}
