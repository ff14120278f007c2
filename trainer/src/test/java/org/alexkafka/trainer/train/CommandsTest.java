package org.alexkafka.trainer.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.alexkafka.trainer.cli.TrainCommand;
import org.alexkafka.trainer.model.AlexNetSpec;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class CommandsTest {

  @Test
  void trainDefaultsAreThePapersSettings() {
    TrainCommand cmd = new TrainCommand();
    new CommandLine(cmd).parseArgs();
    TrainerConfig c = cmd.config();
    assertThat(c.batchSize()).isEqualTo(128);
    assertThat(c.learningRate()).isEqualTo(0.01);
    assertThat(c.lrSchedule()).isEqualTo("plateau");
    assertThat(c.devices()).isEqualTo(1);
    assertThat(c.spec()).isEqualTo(AlexNetSpec.paper());
  }

  @Test
  void flagsReachTheConfig() {
    TrainCommand cmd = new TrainCommand();
    new CommandLine(cmd).parseArgs("--profile", "small", "--classes", "10", "--input-size", "64", "--towers", "2",
        "--batch", "32", "--devices", "2", "--lr-schedule", "steps", "--lr-steps", "30,60", "--follow", "--eval-each-epoch", "false");
    TrainerConfig c = cmd.config();
    assertThat(c.spec()).isEqualTo(AlexNetSpec.small(10, 64).withTowers(2));
    assertThat(c.lrSteps()).isEqualTo(List.of(30, 60));
    assertThat(c.follow()).isTrue();
    assertThat(c.evalEachEpoch()).isFalse();
    assertThat(c.devices()).isEqualTo(2);
  }

  @Test
  void badSettingsAreRefusedWithTheReason() {
    TrainCommand cmd = new TrainCommand();
    new CommandLine(cmd).parseArgs("--profile", "huge");
    assertThatThrownBy(cmd::config).hasMessageContaining("profile must be paper or small");
  }

  @Test
  void learningRateSchedules() {
    LearningRateSchedule plateau = new LearningRateSchedule("plateau", 0.01, 2, List.of(), null);
    assertThat(plateau.afterValidation(0.9)).isEqualTo(0.01);
    assertThat(plateau.afterValidation(0.8)).isEqualTo(0.01);
    assertThat(plateau.afterValidation(0.85)).isEqualTo(0.01); // 1 without improvement
    assertThat(plateau.afterValidation(0.81)).isEqualTo(0.001); // 2: divide by 10
    assertThat(plateau.afterValidation(0.82)).isEqualTo(0.001);
    assertThat(plateau.afterValidation(0.7)).isEqualTo(0.001);
    assertThat(plateau.state().reductions()).isEqualTo(1);

    LearningRateSchedule steps = new LearningRateSchedule("steps", 0.01, 2, List.of(2, 4), null);
    assertThat(steps.atEpochStart(1)).isEqualTo(0.01);
    assertThat(steps.atEpochStart(2)).isEqualTo(0.01);
    assertThat(steps.atEpochStart(3)).isCloseTo(0.001, org.assertj.core.api.Assertions.within(1e-12));
    assertThat(steps.atEpochStart(5)).isCloseTo(0.0001, org.assertj.core.api.Assertions.within(1e-12));
  }
}
