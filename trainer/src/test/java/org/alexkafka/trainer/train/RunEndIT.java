package org.alexkafka.trainer.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.alexkafka.schemas.config.KafkaConnection;
import org.alexkafka.schemas.topics.Topics;
import org.alexkafka.trainer.checkpoint.CheckpointStore;
import org.alexkafka.trainer.data.ShuffledEpoch;
import org.alexkafka.trainer.engine.EngineKind;
import org.alexkafka.trainer.support.TestData;
import org.alexkafka.trainer.support.TestData.SmallImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How a run ends by itself: the paper's "reduced three times prior to termination", and a run
 * that has nothing left to learn. Real photos on the embedded broker, one batch an epoch.
 */
class RunEndIT {

  private static final int IMAGE = 72;
  private static final int CROP = 64;

  @TempDir
  Path tmp;

  private static Topics publish(String name, int classes) throws Exception {
    Topics topics = TestData.freshTopics(name);
    List<SmallImage> train = TestData.imagenette("train", classes, 16 / classes, IMAGE);
    List<SmallImage> val = TestData.imagenette("val", classes, 4 / classes, IMAGE);
    TestData.publish(topics.samplesTrain(), TestData.trainSamples(train, IMAGE, CROP, 2, 3));
    TestData.publish(topics.samplesVal(), TestData.valViews(val, IMAGE, CROP));
    TestData.publishStats(topics.stats(), TestData.stats(train, IMAGE));
    return topics;
  }

  private TrainerConfig config(int classes, double lr, int patience) {
    return TrainerConfig.builder().profile(Profile.SMALL).classes(classes).cropSize(CROP).batchSize(32).epochs(50)
        .checkpointDir(tmp.resolve("ckpt").toString()).checkpointEvery(0).shuffleBuffer(64)
        .lr(new LearningRateSchedule.Settings(LearningRateSchedule.Rule.PLATEAU, lr, patience, 0.01, 3, List.of()))
        .seed(7).runDir(tmp.resolve("run").toString()).logEvery(1).statsTimeoutSeconds(30).build();
  }

  private static List<JsonNode> rows(Path runDir, String kind) throws Exception {
    ObjectMapper json = new ObjectMapper();
    List<JsonNode> out = new ArrayList<>();
    for (String line : Files.readAllLines(runDir.resolve("metrics.jsonl"))) {
      JsonNode n = json.readTree(line);
      if (n.get("kind").asText().equals(kind)) {
        out.add(n);
      }
    }
    return out;
  }

  @Test
  void aRunEndsAtThePlateauAfterItsThirdReductionAndARestartTrainsNoFurther() throws Exception {
    Topics topics = publish("run-end-plateau", 2);
    KafkaConnection kafka = new KafkaConnection(TestData.bootstrap(), topics);
    // ε so small that the validation error never moves: every evaluation after the first is a plateau
    TrainerConfig cfg = config(2, 1e-12, 1);
    Trainer.Result r = new Trainer(cfg, kafka, new SimpleMeterRegistry()).run();

    assertThat(r.ended()).isEqualTo(RunEnd.PLATEAU);
    assertThat(r.epoch()).isEqualTo(6); // the checkpoint stands at the start of the epoch that will not be trained
    assertThat(r.learningRate()).isCloseTo(1e-15, within(1e-20));
    Path run = Path.of(cfg.runDir());
    List<JsonNode> changes = rows(run, "lr");
    assertThat(changes).hasSize(3);
    assertThat(changes).extracting(n -> n.get("epoch").asInt()).containsExactly(2, 3, 4);
    assertThat(changes.get(2).get("to").asDouble()).isCloseTo(1e-15, within(1e-20));
    assertThat(changes.get(0).get("reason").asText()).contains("has not improved");
    List<JsonNode> end = rows(run, "end");
    assertThat(end).hasSize(1);
    assertThat(end.get(0).get("reason").asText()).isEqualTo("PLATEAU");
    assertThat(end.get(0).get("epoch").asInt()).isEqualTo(5); // 1: first error; 2, 3, 4: divide; 5: the plateau after the third
    assertThat(rows(run, "eval")).hasSize(5);
    String report = Files.readString(run.resolve("report").resolve("index.html"));
    assertThat(report).contains("Run ended").contains("the paper's termination").contains("id=\"reductions\"");
    assertThat(report.split("<tr><td>", -1).length).isGreaterThan(3);

    CheckpointStore.Loaded last = CheckpointStore.load(Path.of(cfg.checkpointDir()));
    assertThat(last.state().ended()).isEqualTo(RunEnd.PLATEAU);
    assertThat(last.state().iteration()).isEqualTo(r.iteration());

    Trainer.Result again = new Trainer(cfg, kafka, new SimpleMeterRegistry()).run();
    assertThat(again.ended()).isEqualTo(RunEnd.PLATEAU);
    assertThat(again.iteration()).isEqualTo(r.iteration());
    assertThat(rows(run, "end")).hasSize(1); // nothing trained, nothing new recorded
  }

  @Test
  void aRunWhoseValidationErrorReachesZeroEndsAsConvergedInsteadOfDividingItsRateForever() throws Exception {
    Topics topics = publish("run-end-converged", 1); // photos of one class only, for a two-class net: soon all right
    TrainerConfig cfg = config(2, 0.01, 2);
    Trainer.Result r = new Trainer(cfg, new KafkaConnection(TestData.bootstrap(), topics), new SimpleMeterRegistry()).run();

    assertThat(r.ended()).isEqualTo(RunEnd.CONVERGED);
    assertThat(r.lastEval().centreTop1Error()).isZero();
    assertThat(r.learningRate()).isGreaterThanOrEqualTo(1e-5); // at most the three reductions, never 1e-20
    assertThat(rows(Path.of(cfg.runDir()), "end").get(0).get("reason").asText()).isEqualTo("CONVERGED");
  }
}
