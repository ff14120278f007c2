package org.alexkafka.bench.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The full distribution ({@code bench/target/alexkafka-bench.jar}, which {@code bin/alexkafka} runs
 * when it is built) carries what the services need at run time, as Maven resolves it for the
 * manifest and {@code target/lib}: once, the parent's test-scoped logback won over pipeline's and
 * every service run from it logged nothing.
 */
class DistributionClassPathTest {

  private static List<String> runtimeJars() throws IOException {
    String classPath = Files.readString(Path.of("target", "runtime-class-path.txt")).strip();
    // a jar by its file name; a module of this build (in a reactor build, its target/classes) by its folder's
    return Arrays.stream(classPath.split(java.io.File.pathSeparator)).map(Path::of)
        .map(p -> p.endsWith(Path.of("target", "classes")) ? p.getParent().getParent().getFileName() + "-classes" : p.getFileName().toString())
        .toList();
  }

  @Test
  void theDistributionHasOneLoggingBackendAndEveryService() throws IOException {
    List<String> jars = runtimeJars();
    assertThat(jars).anyMatch(j -> j.startsWith("logback-classic-"));
    assertThat(jars).anyMatch(j -> j.startsWith("log4j-to-slf4j-")); // the broker's log4j API goes to logback
    assertThat(jars).noneMatch(j -> j.startsWith("log4j-core-") || j.startsWith("slf4j-simple-") || j.startsWith("slf4j-reload4j-"));
    assertThat(jars).anyMatch(j -> j.startsWith("pipeline-") || j.equals("alexkafka.jar")).anyMatch(j -> j.startsWith("trainer-"))
        .anyMatch(j -> j.startsWith("ingest-")).anyMatch(j -> j.startsWith("augment-"));
    assertThat(jars).noneMatch(j -> j.startsWith("junit-"));
  }
}
