package org.alexkafka.pipeline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Which failures end a command with one line (and which keep their stack trace), without a broker. */
class ExpectedFailureTest {

  private static final String SCRAM = "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512";

  @Test
  void aRefusedLoginAnywhereInTheCausesIsOneLineNamingTheBroker() {
    Exception wrapped = new ExecutionException(new IllegalStateException("could not create topic images: " + SCRAM,
        new SaslAuthenticationException(SCRAM)));
    assertThat(AlexKafkaCli.expectedFailure(wrapped, "broker:9093")).isEqualTo("Kafka refused the credentials at broker:9093: " + SCRAM);
    assertThat(AlexKafkaCli.expectedFailure(new SaslAuthenticationException(SCRAM), null)).isEqualTo("Kafka refused the credentials: " + SCRAM);
  }

  @Test
  void tlsAndAuthorizationFailuresAreOneLineToo() {
    assertThat(AlexKafkaCli.expectedFailure(new SslAuthenticationException("SSL handshake failed",
        new javax.net.ssl.SSLHandshakeException("PKIX path building failed")), "b:9094"))
        .isEqualTo("TLS handshake with Kafka at b:9094 failed: SSL handshake failed: PKIX path building failed");
    assertThat(AlexKafkaCli.expectedFailure(new RuntimeException(new TopicAuthorizationException(Set.of("images"))), "b:9094"))
        .startsWith("Kafka denied access at b:9094: ").contains("images");
    assertThat(AlexKafkaCli.expectedFailure(new GroupAuthorizationException("Not authorized to access group: g"), "b:9094"))
        .isEqualTo("Kafka denied access at b:9094: Not authorized to access group: g");
  }

  @Test
  void badClientSettingsAreConfigurationErrors() {
    assertThat(AlexKafkaCli.expectedFailure(new ConfigException("security.protocol", "SASL_PLAINTEXTT", "String must be one of ..."), null))
        .startsWith("Kafka client configuration: Invalid value SASL_PLAINTEXTT for configuration security.protocol");
    KafkaException jaas = new KafkaException("Failed to create new KafkaAdminClient",
        new KafkaException(new IllegalArgumentException("JAAS config entry not terminated by semi-colon")));
    assertThat(AlexKafkaCli.expectedFailure(jaas, "b:9094"))
        .isEqualTo("Kafka client configuration: Failed to create new KafkaAdminClient: JAAS config entry not terminated by semi-colon");
  }

  @Test
  void configurationProblemsOfTheCommandAreTheirMessageOnOneLine() {
    assertThat(AlexKafkaCli.expectedFailure(new IllegalArgumentException("--split must be train or val, got x"), null))
        .isEqualTo("--split must be train or val, got x");
    assertThat(AlexKafkaCli.expectedFailure(new IllegalStateException("cannot reach Kafka\n  at b:9092"), null))
        .isEqualTo("cannot reach Kafka at b:9092");
  }

  @Test
  void anythingElseKeepsItsStackTrace() {
    assertThat(AlexKafkaCli.expectedFailure(new NullPointerException("x"), "b:9092")).isNull();
    assertThat(AlexKafkaCli.expectedFailure(new IllegalStateException(), null)).isNull();
    assertThat(AlexKafkaCli.expectedFailure(new RuntimeException(new IllegalArgumentException("deep")), null)).isNull();
    assertThat(AlexKafkaCli.expectedFailure(new KafkaException("Failed to construct kafka producer", new NullPointerException()), null))
        .isNull();
  }

  @Command(name = "boom")
  static final class Boom implements Callable<Integer> {
    static RuntimeException failure;

    @Override
    public Integer call() {
      throw failure;
    }
  }

  private static String[] run(RuntimeException failure, String... args) {
    Boom.failure = failure;
    CommandLine cli = AlexKafkaCli.commandLine();
    cli.addSubcommand(new Boom());
    StringWriter err = new StringWriter();
    cli.setErr(new PrintWriter(err, true));
    int exitCode = cli.execute(args);
    return new String[] {String.valueOf(exitCode), err.toString()};
  }

  @Test
  void theCliPrintsOneLineAndExits1UnlessVerbose() {
    String[] quiet = run(new IllegalStateException("wrapped", new SaslAuthenticationException(SCRAM)), "boom");
    assertThat(quiet[0]).isEqualTo("1");
    assertThat(quiet[1]).isEqualTo("Kafka refused the credentials: " + SCRAM + System.lineSeparator());

    String[] verbose = run(new IllegalStateException("wrapped", new SaslAuthenticationException(SCRAM)), "--verbose", "boom");
    assertThat(verbose[0]).isEqualTo("1");
    assertThat(verbose[1]).contains("IllegalStateException: wrapped").contains("SaslAuthenticationException").contains("\tat ");

    String[] bug = run(new NullPointerException("bug"), "boom");
    assertThat(bug[0]).isEqualTo("1");
    assertThat(bug[1]).contains("NullPointerException: bug").contains("\tat ");
  }
}
