package org.alexkafka.trainer.train;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.alexkafka.schemas.Sample;
import org.alexkafka.schemas.config.KafkaConnection;
import org.alexkafka.schemas.topics.Topics;
import org.alexkafka.trainer.checkpoint.CheckpointStore;
import org.alexkafka.trainer.data.SampleRef;
import org.alexkafka.trainer.support.TestData;
import org.alexkafka.trainer.support.TestData.SmallImage;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The training loop on real photos (imagenette-mini, 10 classes, 72x72 images, 64x64 crops)
 * published through the embedded broker, class by class as an ingest would.
 */
class TrainerIT {

  private static final Logger log = LoggerFactory.getLogger(TrainerIT.class);
  private static final int IMAGE = 72;
  private static final int CROP = 64;
  private static Topics topics;
  private static int trainSamples;

  @TempDir
  Path tmp;

  @BeforeAll
  static void publishImagenette() throws Exception {
    topics = TestData.freshTopics("trainer-it");
    List<SmallImage> train = TestData.imagenette("train", 10, 60, IMAGE);
    List<SmallImage> val = TestData.imagenette("val", 10, 20, IMAGE);
    List<Sample> samples = TestData.trainSamples(train, IMAGE, CROP, 2, 5);
    trainSamples = samples.size();
    TestData.publish(topics.samplesTrain(), samples);
    TestData.publish(topics.samplesVal(), TestData.valViews(val, IMAGE, CROP));
    TestData.publishStats(topics.stats(), TestData.stats(train, IMAGE));
  }

  private TrainerConfig config(String name) {
    return new TrainerConfig("small", 10, CROP, 1, 32, 1, false, false, tmp.resolve(name + "-ckpt").toString(), 0, 3,
        400, 0.01, "plateau", 2, List.of(), 1, 7, tmp.resolve(name + "-run").toString(), 10, false, 0, 0, 30);
  }

  private static KafkaConnection kafka() {
    return new KafkaConnection(TestData.bootstrap(), topics);
  }

  private static List<JsonNode> rows(Path metrics, String kind) throws Exception {
    ObjectMapper json = new ObjectMapper();
    List<JsonNode> out = new ArrayList<>();
    for (String line : Files.readAllLines(metrics)) {
      JsonNode n = json.readTree(line);
      if (n.get("kind").asText().equals(kind)) {
        out.add(n);
      }
    }
    return out;
  }

  @Test
  void lossFallsAndTrainingAccuracyRisesAboveChance() throws Exception {
    TrainerConfig base = config("learn");
    TrainerConfig cfg = new TrainerConfig("small", 10, CROP, 1, 32, 100, false, false, base.checkpointDir(), 100, 3,
        1200, 0.01, "plateau", 3, List.of(), 1, 7, base.runDir(), 10, true, 300, 0, 30);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Trainer.Result result = new Trainer(cfg, kafka(), registry).run();

    assertThat(result.iteration()).isEqualTo(300);
    List<JsonNode> train = rows(Path.of(cfg.runDir(), "metrics.jsonl"), "train");
    assertThat(train).hasSize(30);
    double firstLoss = train.subList(0, 3).stream().mapToDouble(n -> n.get("loss").asDouble()).average().orElseThrow();
    double lastLoss = train.subList(27, 30).stream().mapToDouble(n -> n.get("loss").asDouble()).average().orElseThrow();
    double lastTop1 = train.subList(25, 30).stream().mapToDouble(n -> n.get("top1").asDouble()).average().orElseThrow();
    log.info("loss {} -> {}, last training top-1 {}", firstLoss, lastLoss, lastTop1);
    assertThat(firstLoss).isBetween(2.0, 2.6); // ~ln(10) at the start
    assertThat(lastLoss).isLessThan(firstLoss - 0.3);
    assertThat(lastTop1).isGreaterThan(0.2); // chance is 0.1
    assertThat(train.get(29).get("imagesPerSecond").asDouble()).isPositive();
    assertThat(train.get(29).get("learningRate").asDouble()).isPositive();

    List<JsonNode> evals = rows(Path.of(cfg.runDir(), "metrics.jsonl"), "eval");
    assertThat(evals).isNotEmpty();
    assertThat(evals.get(0).get("images").asInt()).isEqualTo(200);
    assertThat(evals.get(0).get("tenViewImages").asInt()).isEqualTo(200);
    assertThat(registry.get("trainer.iterations").counter().count()).isEqualTo(300);
    assertThat(new CheckpointStore(Path.of(cfg.checkpointDir()), 3).latest()).isPresent();
  }

  /**
   * Kill and resume: run A trains one epoch uninterrupted; run B stops after 15 iterations
   * (checkpoint) and a new trainer resumes from it. B sees exactly A's samples, in A's order, each
   * once, and ends with A's parameters.
   */
  @Test
  void aResumedRunSeesTheRestOfTheEpochAndEndsWithTheSameParameters() {
    TrainerConfig a = config("a");
    List<SampleRef> seenA = new ArrayList<>();
    Trainer runA = new Trainer(a, kafka(), new SimpleMeterRegistry());
    runA.onBatchTrained(seenA::addAll);
    Trainer.Result resultA = runA.run();
    assertThat(resultA.finishedEpochs()).isTrue();
    assertThat(seenA).hasSize(trainSamples).doesNotHaveDuplicates();

    TrainerConfig b = config("b");
    List<SampleRef> seenB = new ArrayList<>();
    Trainer firstPart = new Trainer(b.withMaxIterations(15), kafka(), new SimpleMeterRegistry());
    firstPart.onBatchTrained(seenB::addAll);
    Trainer.Result stopped = firstPart.run();
    assertThat(stopped.iteration()).isEqualTo(15);
    assertThat(stopped.finishedEpochs()).isFalse();
    assertThat(stopped.lastCheckpoint()).exists();

    Trainer resumed = new Trainer(b, kafka(), new SimpleMeterRegistry());
    List<SampleRef> seenAfterResume = new ArrayList<>();
    resumed.onBatchTrained(seenAfterResume::addAll);
    Trainer.Result resultB = resumed.run();
    seenB.addAll(seenAfterResume);

    assertThat(seenAfterResume).hasSize(trainSamples - 15 * 32);
    assertThat(seenB).isEqualTo(seenA);
    assertThat(resultB.iteration()).isEqualTo(resultA.iteration());
    double diff = resumed.network().params().sub(runA.network().params()).amaxNumber().doubleValue();
    log.info("largest parameter difference resumed vs uninterrupted: {}", diff);
    assertThat(diff).isZero();
  }
}
