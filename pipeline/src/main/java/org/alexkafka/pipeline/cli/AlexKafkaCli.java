package org.alexkafka.pipeline.cli;

import java.util.List;
import java.util.concurrent.Callable;
import javax.security.auth.login.LoginException;
import org.alexkafka.pipeline.metrics.PrometheusEndpoint;
import org.alexkafka.schemas.config.KafkaConnection;
import org.alexkafka.schemas.config.KafkaOptions;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The one command line of the distribution: a subcommand per service, the benches, and the
 * all-in-one run. Service subcommands are found by class name so that a slim image (ingest or
 * augment, without ND4J's natives) runs the same launcher and simply lacks the trainer's commands.
 *
 * <p>Expected failures (Kafka refusing the credentials or the access, a client or service
 * misconfigured) end the command with one line on stderr and exit code 1, without a stack trace
 * unless {@code --verbose}; anything else keeps picocli's stack trace. Usage errors stay exit code 2.
 */
@Command(name = "alexkafka", mixinStandardHelpOptions = true, version = "alexkafka 0.1.0",
    description = "AlexNet (Krizhevsky et al., 2012) on Apache Kafka: ingest, augment, train.",
    subcommands = {BrokerCommand.class, TopicsCommand.class, ConfigTableCommand.class, CommandLine.HelpCommand.class})
public final class AlexKafkaCli implements Callable<Integer> {

  private static final Logger log = LoggerFactory.getLogger(AlexKafkaCli.class);

  /** Service and bench commands, in the order `--help` lists them; the benches come with the bench module (bin/alexkafka runs it when built). */
  static final List<String> SERVICE_COMMANDS = List.of(
      "org.alexkafka.pipeline.run.RunCommand",
      "org.alexkafka.ingest.cli.IngestCommand",
      "org.alexkafka.augment.cli.AugmentCommand",
      "org.alexkafka.trainer.cli.TrainCommand",
      "org.alexkafka.trainer.cli.EvaluateCommand",
      "org.alexkafka.augment.render.RenderSamples",
      "org.alexkafka.bench.decode.DecodeBench",
      "org.alexkafka.bench.augment.AugmentBench",
      "org.alexkafka.bench.train.TrainSpeedBench",
      "org.alexkafka.bench.learn.LearnBench",
      "org.alexkafka.bench.feed.FeedBench");

  /**
   * Commands whose own classes are in every distribution but that run another module's code: listed
   * only where that module is (the slim ingest/augment image has no trainer, so no {@code run}).
   */
  static final java.util.Map<String, String> NEEDS = java.util.Map.of(
      "org.alexkafka.pipeline.run.RunCommand", "org.alexkafka.trainer.train.Trainer");

  // INHERIT: every subcommand takes them too (`train --metrics-port 9404`), bound to these fields
  @Option(names = "--metrics-port", defaultValue = "${env:METRICS_PORT:--1}", scope = CommandLine.ScopeType.INHERIT, paramLabel = "<port>",
      description = "Serve Prometheus metrics at http://HOST:PORT/metrics, and /-/healthy (env METRICS_PORT; -1 = off, the default).")
  int metricsPort;

  @Option(names = "--metrics-bind", defaultValue = "${env:METRICS_BIND:-" + PrometheusEndpoint.DEFAULT_BIND + "}",
      scope = CommandLine.ScopeType.INHERIT, paramLabel = "<address>",
      description = "Address the metrics endpoint listens on: 127.0.0.1 = this machine only; 0.0.0.0 = every interface, as in a container"
          + " (env METRICS_BIND, default ${DEFAULT-VALUE}).")
  String metricsBind;

  @Option(names = "--verbose", defaultValue = "${env:ALEXKAFKA_VERBOSE:-false}", scope = CommandLine.ScopeType.INHERIT,
      description = "Print the stack trace of an expected failure (a refused login, a configuration error) too, not only its one line "
          + "(env ALEXKAFKA_VERBOSE).")
  boolean verbose;

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
  /**
   * What every option's help shows: a placeholder after the flag's own name ({@code
   * --checkpoint-dir=<checkpoint-dir>}, not picocli's default of the Java field's, {@code
   * <checkpointDir>}), its environment variable and its default, where the option's own text does not
   * already say them.
   */
  private static void describeOptions(CommandLine cli) {
    CommandLine.Model.CommandSpec spec = cli.getCommandSpec();
    boolean interpolating = spec.interpolateVariables();
    spec.interpolateVariables(false); // read the raw ${env:NAME:-default} and text, as written
    for (CommandLine.Model.OptionSpec o : List.copyOf(spec.options())) {
      if (o.inherited() || o.scopeType() == CommandLine.ScopeType.INHERIT || o.usageHelp() || o.versionHelp()) {
        continue;
      }
      CommandLine.Model.OptionSpec.Builder b = o.toBuilder();
      if (o.arity().max() > 0 && o.paramLabel().matches("<[a-z]+([A-Z][a-z0-9]*)*>")) {
        b.paramLabel("<" + o.longestName().replaceFirst("^-+", "") + ">");
      }
      String text = String.join(" ", o.description());
      String raw = o.defaultValue();
      java.util.regex.Matcher env = raw == null ? null : ENV_DEFAULT.matcher(raw);
      String variable = env != null && env.matches() && !text.contains("env " + env.group(1)) ? env.group(1) : null;
      boolean showDefault = raw != null && !text.contains("${DEFAULT-VALUE}") && !raw.isEmpty()
          && !raw.matches("\\$\\{env:[A-Za-z0-9_]+(:-)?\\}");
      if (variable != null) {
        b.description(text + " (env " + variable + (showDefault ? "; default ${DEFAULT-VALUE}" : "") + ")");
      } else if (showDefault) {
        b.description(text + DEFAULT_SUFFIX);
      }
      spec.remove(o);
      spec.addOption(b.build());
    }
    spec.interpolateVariables(interpolating);
    cli.getSubcommands().values().forEach(AlexKafkaCli::describeOptions);
  }

  /** Appended to an option's help where it does not name its default (config-table drops it: it has a column for it). */
  static final String DEFAULT_SUFFIX = " (default ${DEFAULT-VALUE})";

  private static final java.util.regex.Pattern ENV_DEFAULT = java.util.regex.Pattern.compile("\\$\\{env:([A-Z0-9_]+)(:-.*)?}");

  public static CommandLine commandLine() {
    AlexKafkaCli root = new AlexKafkaCli();
    CommandLine cli = new CommandLine(root);
    cli.setCaseInsensitiveEnumValuesAllowed(true); // --profile PAPER or paper
    for (String className : SERVICE_COMMANDS) {
      try {
        String needed = NEEDS.get(className);
        if (needed != null) {
          Class.forName(needed, false, AlexKafkaCli.class.getClassLoader());
        }
        cli.addSubcommand(Class.forName(className).getDeclaredConstructor().newInstance());
      } catch (ClassNotFoundException | NoClassDefFoundError e) {
        log.debug("subcommand {} is not in this distribution", className);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("cannot create subcommand " + className, e);
      }
    }
    describeOptions(cli);
    cli.setExecutionStrategy(parseResult -> {
      if (root.metricsPort < 0) {
        return new CommandLine.RunLast().execute(parseResult);
      }
      try (PrometheusEndpoint endpoint = PrometheusEndpoint.start(root.metricsBind, root.metricsPort)) {
        log.info("Prometheus metrics at {}/metrics", endpoint.url());
        return new CommandLine.RunLast().execute(parseResult);
      } catch (java.io.IOException e) {
        String message = "cannot serve metrics on " + root.metricsBind + ":" + root.metricsPort + ": " + e;
        throw new CommandLine.ExecutionException(cli, message, new IllegalStateException(message, e));
      }
    });
    // a usage error: its message and a hint, not the 50-line help (exit 2)
    cli.setParameterExceptionHandler((ex, args) -> {
      CommandLine failed = ex.getCommandLine();
      java.io.PrintWriter err = failed.getErr();
      err.println(failed.getColorScheme().errorText(ex.getMessage()));
      CommandLine.UnmatchedArgumentException.printSuggestions(ex, err);
      err.println("Try '" + failed.getCommandSpec().qualifiedName() + " --help' for the options.");
      err.flush();
      return failed.getCommandSpec().exitCodeOnInvalidInput();
    });
    cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
      String message = expectedFailure(ex, kafkaAddress(commandLine));
      if (message == null || root.verbose) {
        throw ex; // picocli prints the stack trace
      }
      commandLine.getErr().println(message);
      commandLine.getErr().flush();
      return commandLine.getCommandSpec().exitCodeOnExecutionException();
    });
    return cli;
  }

  /** The bootstrap servers the failed command used, if it has the Kafka options and got as far as reading them. */
  private static String kafkaAddress(CommandLine commandLine) {
    for (CommandLine.Model.CommandSpec mixin : commandLine.getCommandSpec().mixins().values()) {
      if (mixin.userObject() instanceof KafkaOptions options) {
        KafkaConnection connection = options.resolvedConnection();
        return connection == null ? null : connection.bootstrapServers();
      }
    }
    return null;
  }

  /**
   * The one line an expected failure is reported with, or null when {@code failure} is not one
   * (a bug: its stack trace is wanted). Expected: Kafka refused the login (an
   * {@link AuthenticationException} anywhere in the causes) or the access ({@link AuthorizationException}),
   * a Kafka client setting is invalid ({@link ConfigException}, a client that cannot be built for its
   * JAAS or security settings), or the command itself stopped on a configuration problem
   * ({@link IllegalArgumentException}, {@link IllegalStateException} with a message).
   */
  static String expectedFailure(Throwable failure, String bootstrapServers) {
    String at = bootstrapServers == null ? "" : " at " + bootstrapServers;
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof SaslAuthenticationException) {
        return oneLine("Kafka refused the credentials" + at + ": " + t.getMessage());
      }
      if (t instanceof SslAuthenticationException) {
        return oneLine("TLS handshake with Kafka" + at + " failed: " + withRootCause(t));
      }
      if (t instanceof AuthenticationException) {
        return oneLine("Kafka authentication failed" + at + ": " + withRootCause(t));
      }
      if (t instanceof AuthorizationException) {
        return oneLine("Kafka denied access" + at + ": " + t.getMessage());
      }
      if (t instanceof ConfigException) {
        return oneLine("Kafka client configuration: " + t.getMessage());
      }
    }
    if (failure instanceof KafkaException && failure.getMessage() != null && failure.getMessage().startsWith("Failed to c")) {
      // "Failed to create new KafkaAdminClient" / "Failed to construct kafka producer": a bad JAAS or security setting
      Throwable root = rootCause(failure);
      if (root instanceof IllegalArgumentException || root instanceof LoginException || root instanceof IllegalStateException) {
        return oneLine("Kafka client configuration: " + failure.getMessage() + ": " + root.getMessage());
      }
    }
    if ((failure instanceof IllegalArgumentException || failure instanceof IllegalStateException) && failure.getMessage() != null
        && !failure.getMessage().isBlank()) {
      return oneLine(failure.getMessage());
    }
    return null;
  }

  private static Throwable rootCause(Throwable t) {
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root;
  }

  private static String withRootCause(Throwable t) {
    Throwable root = rootCause(t);
    return root == t || root.getMessage() == null || String.valueOf(t.getMessage()).contains(root.getMessage())
        ? String.valueOf(t.getMessage()) : t.getMessage() + ": " + root.getMessage();
  }

  private static String oneLine(String message) {
    return message.strip().replaceAll("\\s*\\R\\s*", " ");
  }
}
