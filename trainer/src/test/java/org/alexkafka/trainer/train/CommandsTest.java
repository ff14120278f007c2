package org.alexkafka.trainer.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

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
    assertThat(c.lr()).isEqualTo(LearningRateSchedule.Settings.paper());
    assertThat(c.lr().maxReductions()).isEqualTo(3);
    assertThat(c.shuffleBlock()).isEqualTo(16);
    assertThat(c.devices()).isEqualTo(1);
    assertThat(c.spec()).isEqualTo(AlexNetSpec.paper());
  }

  @Test
  void flagsReachTheConfig() {
    TrainCommand cmd = new TrainCommand();
    new CommandLine(cmd).parseArgs("--profile", "small", "--classes", "10", "--crop-size", "64", "--towers", "2",
        "--batch", "32", "--devices", "2", "--lr-schedule", "steps", "--lr-steps", "30,60", "--follow", "--eval-each-epoch", "false");
    TrainerConfig c = cmd.config();
    assertThat(c.spec()).isEqualTo(AlexNetSpec.small(10, 64).withTowers(2));
    assertThat(c.lr().steps()).isEqualTo(List.of(30, 60));
    assertThat(c.lr().kind()).isEqualTo(LearningRateSchedule.Rule.STEPS);
    assertThat(c.follow()).isTrue();
    assertThat(c.evalEachEpoch()).isFalse();
    assertThat(c.devices()).isEqualTo(2);
  }

  @Test
  void badSettingsAreRefusedWithTheReason() {
    TrainCommand cmd = new TrainCommand();
    assertThatThrownBy(() -> new CommandLine(cmd).parseArgs("--profile", "huge"))
        .isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("paper").hasMessageContaining("small");
  }

  @Test
  void thePlateauRuleDividesOnlyAfterARealPlateauAndEndsAfterItsLastReduction() {
    var settings = new LearningRateSchedule.Settings(LearningRateSchedule.Rule.PLATEAU, 0.01, 2, 0.05, 2, List.of());
    LearningRateSchedule plateau = new LearningRateSchedule(settings, null);
    assertThat(plateau.afterValidation(0.80)).isEqualTo(LearningRateSchedule.Decision.KEEP);
    assertThat(plateau.afterValidation(0.79)).isEqualTo(LearningRateSchedule.Decision.KEEP); // a dip under 5%: no improvement
    assertThat(plateau.afterValidation(0.70)).isEqualTo(LearningRateSchedule.Decision.KEEP); // improved
    assertThat(plateau.state().sinceBest()).isZero();
    assertThat(plateau.afterValidation(0.69)).isEqualTo(LearningRateSchedule.Decision.KEEP);
    assertThat(plateau.afterValidation(0.68)).isEqualTo(LearningRateSchedule.Decision.REDUCE); // 2 without 5%
    assertThat(plateau.learningRate()).isEqualTo(0.001);
    assertThat(plateau.state().bestError()).isEqualTo(0.68); // the best is the lowest seen, improvement or not
    assertThat(plateau.afterValidation(0.60)).isEqualTo(LearningRateSchedule.Decision.KEEP);
    assertThat(plateau.afterValidation(0.61)).isEqualTo(LearningRateSchedule.Decision.KEEP);
    assertThat(plateau.afterValidation(0.60)).isEqualTo(LearningRateSchedule.Decision.REDUCE);
    assertThat(plateau.learningRate()).isCloseTo(0.0001, within(1e-12));
    assertThat(plateau.state().reductions()).isEqualTo(2);
    assertThat(plateau.afterValidation(0.59)).isEqualTo(LearningRateSchedule.Decision.KEEP);
    assertThat(plateau.afterValidation(0.59)).isEqualTo(LearningRateSchedule.Decision.STOP_PLATEAU); // after the last one
    assertThat(plateau.learningRate()).isCloseTo(0.0001, within(1e-12)); // never divided further

    LearningRateSchedule converging = new LearningRateSchedule(LearningRateSchedule.Settings.paper(), null);
    assertThat(converging.afterValidation(0.2)).isEqualTo(LearningRateSchedule.Decision.KEEP);
    assertThat(converging.afterValidation(0.0)).isEqualTo(LearningRateSchedule.Decision.STOP_CONVERGED);
    assertThat(converging.learningRate()).isEqualTo(0.01);
  }

  @Test
  void theStepsScheduleDividesAfterEachListedEpochAndNeverEndsARun() {
    LearningRateSchedule steps = new LearningRateSchedule(new LearningRateSchedule.Settings(LearningRateSchedule.Rule.STEPS, 0.01, 2, 0.01, 3,
        List.of(2, 4)), null);
    assertThat(steps.atEpochStart(1)).isEqualTo(0.01);
    assertThat(steps.atEpochStart(2)).isEqualTo(0.01);
    assertThat(steps.atEpochStart(3)).isCloseTo(0.001, within(1e-12));
    assertThat(steps.atEpochStart(5)).isCloseTo(0.0001, within(1e-12));
    assertThat(steps.afterValidation(0.0)).isEqualTo(LearningRateSchedule.Decision.KEEP);
    assertThat(steps.afterValidation(0.0)).isEqualTo(LearningRateSchedule.Decision.KEEP);
    assertThat(steps.afterValidation(0.0)).isEqualTo(LearningRateSchedule.Decision.KEEP);
  }

  @Test
  void badScheduleSettingsAreRefused() {
    assertThatThrownBy(() -> LearningRateSchedule.Rule.parse("cosine")).hasMessageContaining("plateau, steps");
    assertThat(LearningRateSchedule.Rule.parse("STEPS")).isEqualTo(LearningRateSchedule.Rule.STEPS);
    assertThatThrownBy(() -> Profile.parse("huge")).hasMessageContaining("paper, small");
    assertThatThrownBy(() -> new LearningRateSchedule.Settings(LearningRateSchedule.Rule.PLATEAU, 0.01, 2, 1.5, 3, List.of()))
        .hasMessageContaining("threshold");
  }

  @Test
  void aConfigurationSavedWithTheEarlierStringsStillLoadsAndIsSavedWithTheSameWords() throws Exception {
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    TrainerConfig small = TrainerConfig.smallPreset().classes(10).cropSize(64).build();
    var tree = (com.fasterxml.jackson.databind.node.ObjectNode) json.valueToTree(small);
    assertThat(tree.get("profile").asText()).isEqualTo("small");
    assertThat(tree.get("lr").get("kind").asText()).isEqualTo("plateau");
    assertThat(tree.get("engine").asText()).isEqualTo("dl4j");
    tree.put("profile", "SMALL"); // any case, as the command line takes it
    assertThat(json.treeToValue(tree, TrainerConfig.class)).isEqualTo(small);
    String saved = "{\"profile\":\"paper\",\"classes\":1000,\"inputSize\":224,\"towers\":1,\"batchSize\":128,"
        + "\"epochs\":90,\"checkpointDir\":\"c\",\"shuffleBuffer\":1024,\"shuffleBlock\":16,\"devices\":1,\"runDir\":\"r\","
        + "\"lr\":{\"kind\":\"steps\",\"initial\":0.01,\"patience\":2,\"threshold\":0.01,\"maxReductions\":3,\"steps\":[30]}}";
    TrainerConfig old = json.readValue(saved, TrainerConfig.class);
    assertThat(old.profile()).isEqualTo(Profile.PAPER);
    assertThat(old.lr().kind()).isEqualTo(LearningRateSchedule.Rule.STEPS);
    assertThat(old.engine()).as("no engine saved: the one engine there was").isEqualTo(org.alexkafka.trainer.engine.EngineKind.DL4J);
    tree.put("engine", "TORCH"); // as checkpoints before this one saved it
    assertThat(json.treeToValue(tree, TrainerConfig.class).engine()).isEqualTo(org.alexkafka.trainer.engine.EngineKind.TORCH);
  }
}
