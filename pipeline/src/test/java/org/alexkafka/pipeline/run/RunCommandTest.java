package org.alexkafka.pipeline.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** `run` trains on the project's real photos unless told otherwise. */
class RunCommandTest {

  private static RunConfig parse(String... args) {
    RunCommand cmd = new RunCommand();
    new CommandLine(cmd).parseArgs(args);
    return cmd.toConfig();
  }

  @Test
  void defaultsToTheProjectsTenClassesOfRealPhotos() {
    Path images = parse().images();
    assertThat(images).isNotNull().endsWith(Path.of("testdata", "imagenette-mini"));
    assertThat(Files.isDirectory(images.resolve("train"))).isTrue();
  }

  @Test
  void theSyntheticShapesOnlyWhenAskedAndNeverBesideAFolder() {
    assertThat(parse("--synthetic").images()).isNull(); // the run generates its demo set
    assertThat(parse("--images", "/some/photos").images()).isEqualTo(Path.of("/some/photos"));
    assertThatThrownBy(() -> parse("--images", "/some/photos", "--synthetic"))
        .isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("not both");
  }
}
