package org.alexkafka.augment.cli;

import org.alexkafka.augment.ProcessingGuarantee;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import org.alexkafka.augment.AugmentConfig;
import org.alexkafka.augment.lighting.LightingMagnitude;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class AugmentCommandTest {

  @Test
  void flagsBuildTheConfigRecord() {
    AugmentCommand command = new AugmentCommand();
    new CommandLine(command).parseArgs("--bootstrap-servers", "k:9092", "--topic-prefix", "p.", "--variants", "3",
        "--crop-size", "56", "--seed", "9", "--processing-guarantee", "at_least_once", "--threads", "2",
        "--lighting-magnitude", "PIXEL_RANGE", "--label-wait-ms", "1500", "--state-dir", "/tmp/x");
    AugmentConfig config = command.toConfig();
    assertThat(config.kafka().bootstrapServers()).isEqualTo("k:9092");
    assertThat(config.kafka().topics().images()).isEqualTo("p.images");
    assertThat(config.variantsPerImage()).isEqualTo(3);
    assertThat(config.cropSize()).isEqualTo(56);
    assertThat(config.seed()).isEqualTo(9);
    assertThat(config.threads()).isEqualTo(2);
    assertThat(config.processingGuarantee()).isEqualTo(ProcessingGuarantee.AT_LEAST_ONCE);
    assertThat(config.lightingMagnitude()).isEqualTo(LightingMagnitude.PIXEL_RANGE);
    assertThat(config.labelWait()).isEqualTo(Duration.ofMillis(1500));
    assertThat(config.stateDir()).isEqualTo(Path.of("/tmp/x"));
  }

  @Test
  void defaultsAreThePaperSettingsAndTheChosenDefaults() {
    AugmentCommand command = new AugmentCommand();
    new CommandLine(command).parseArgs();
    AugmentConfig config = command.toConfig();
    assertThat(config.cropSize()).isEqualTo(224);
    assertThat(config.alphaStd()).isEqualTo(0.1);
    assertThat(config.variantsPerImage()).isEqualTo(AugmentConfig.DEFAULT_VARIANTS);
    assertThat(config.processingGuarantee()).isEqualTo(ProcessingGuarantee.EXACTLY_ONCE_V2);
    assertThat(config.applicationId()).isEqualTo("alexkafka-augment");
  }

  @Test
  void aBadGuaranteeIsAClearError() {
    AugmentCommand command = new AugmentCommand();
    assertThatThrownBy(() -> new CommandLine(command).parseArgs("--processing-guarantee", "exactly_once"))
        .isInstanceOf(CommandLine.ParameterException.class)
        .hasMessageContaining("--processing-guarantee").hasMessageContaining("exactly_once_v2").hasMessageContaining("at_least_once");
  }
}
