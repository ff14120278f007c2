package org.alexkafka.pipeline.run;

import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.function.BiConsumer;
import org.alexkafka.augment.AugmentConfig;
import org.alexkafka.augment.AugmentService;
import org.alexkafka.broker.EmbeddedKafkaBroker;
import org.alexkafka.ingest.IngestConfig;
import org.alexkafka.ingest.IngestService;
import org.alexkafka.ingest.IngestSummary;
import org.alexkafka.pipeline.demo.SyntheticImageSet;
import org.alexkafka.schemas.config.KafkaConnection;
import org.alexkafka.schemas.topics.Topics;
import org.alexkafka.trainer.report.TrainingReport;
import org.alexkafka.trainer.train.Trainer;
import org.alexkafka.trainer.train.TrainerConfig;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole pipeline in one JVM: an embedded broker, ingest, augment (Kafka Streams) and the
 * trainer, each the same service class the separate processes run. One readable sequence:
 * start the broker and topics → ingest → wait until augment has caught up → train → report.
 */
public final class PipelineRun {

  private static final Logger log = LoggerFactory.getLogger(PipelineRun.class);
  private static final String AUGMENT_APP_ID = "alexkafka-augment";

  /** What a run produced, for people ({@link #describe()}) and tests. */
  public record Outcome(Path workDir, IngestSummary ingest, int classes, long trainSamples, long valSamples,
                        Trainer.Result training, Path checkpointDir, Path metricsFile, Path report) {

    public double chanceTop1Error() {
      return 1 - 1.0 / classes;
    }

    public String describe() {
      StringBuilder s = new StringBuilder("\n=== alexkafka run finished ===\n");
      s.append(ingest.describe()).append('\n');
      s.append(String.format(Locale.ROOT, "augment: %d training samples, %d validation views%n", trainSamples, valSamples));
      s.append(String.format(Locale.ROOT, "trainer: %d iterations, %d samples, epoch %d, learning rate %.2g%n",
          training.iteration(), training.samplesTrained(), training.epoch(), training.learningRate()));
      if (training.lastEval() != null) {
        var e = training.lastEval();
        s.append(String.format(Locale.ROOT, "held-out top-1 error %.3f (chance %.3f), top-5 error %.3f; 10-view top-1 %.3f, top-5 %.3f%n",
            e.centreTop1Error(), chanceTop1Error(), e.centreTop5Error(), e.tenViewTop1Error(), e.tenViewTop5Error()));
      }
      s.append("checkpoints: ").append(checkpointDir.toAbsolutePath()).append('\n');
      s.append("metrics:     ").append(metricsFile.toAbsolutePath()).append('\n');
      s.append("report:      ").append(report.toAbsolutePath()).append('\n');
      return s.toString();
    }
  }

  private final RunConfig cfg;
  private final MeterRegistry registry;
  private final CountDownLatch trainerStarted = new CountDownLatch(1);
  private volatile Trainer trainer;
  private volatile KafkaConnection kafka;
  private volatile boolean stopRequested;
  private volatile BiConsumer<KafkaConnection, TrainerConfig> beforeTraining = (k, c) -> { };

  public PipelineRun(RunConfig cfg, MeterRegistry registry) {
    this.cfg = cfg;
    this.registry = registry;
  }

  public Outcome run() throws Exception {
    Path work = cfg.workDir();
    Files.createDirectories(work);
    step("starting an embedded Kafka broker (KRaft), data in " + work.resolve("kafka"));
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(work.resolve("kafka"))) {
      KafkaConnection kafka = new KafkaConnection(broker.bootstrapServers(), Topics.DEFAULT);
      this.kafka = kafka;
      try (Admin admin = Admin.create(kafka.clientProperties())) {
        kafka.topics().createAll(admin, (short) 1);
      }
      Path images = cfg.images() != null ? cfg.images() : demoImages(work.resolve("demo-images"));

      AugmentConfig augmentConfig = AugmentConfig.defaults(kafka, work.resolve("state/augment"))
          .withApplicationId(AUGMENT_APP_ID).withCropSize(cfg.cropSize()).withVariants(cfg.variants()).withSeed(cfg.seed());
      IngestConfig ingestConfig = IngestConfig.defaults(kafka).withImageSize(cfg.imageSize()).withProgress(true);
      try (AugmentService augment = new AugmentService(augmentConfig, registry);
           IngestService ingest = new IngestService(ingestConfig, registry).start();
           TopicProbe probe = new TopicProbe(kafka)) {
        augment.start();
        step("ingesting " + images);
        IngestSummary summary = ingest.scanFolder(images);
        System.out.println(summary.describe());
        int classes = ingest.labels().size();
        if (classes < 2) {
          throw new IllegalStateException("need images of at least 2 classes under " + images + ", found " + classes);
        }
        step("augmenting: waiting for the Kafka Streams app to catch up");
        awaitAugmented(probe, kafka);

        TrainerConfig trainerConfig = trainerConfig(classes);
        beforeTraining.accept(kafka, trainerConfig);
        Trainer trainer = new Trainer(trainerConfig, kafka, registry);
        this.trainer = trainer;
        if (stopRequested) {
          trainer.stop();
        }
        CountDownLatch finished = new CountDownLatch(1);
        Thread stopOnCtrlC = new Thread(() -> {
          trainer.stop();
          awaitQuietly(finished);
        }, "stop-training");
        Runtime.getRuntime().addShutdownHook(stopOnCtrlC);
        if (cfg.watch()) {
          ingest.startWatch(images);
          step("watching " + images + " and training as images arrive; Ctrl-C stops (a checkpoint is written)");
        } else {
          step(String.format(Locale.ROOT, "training the small profile for %.1f minutes (%d classes, %d×%d crops)",
              cfg.trainTime().toSeconds() / 60.0, classes, cfg.cropSize(), cfg.cropSize()));
        }
        Trainer.Result result;
        trainerStarted.countDown();
        try {
          result = trainer.run();
        } finally {
          trainer.close();
          finished.countDown();
        }
        Runtime.getRuntime().removeShutdownHook(stopOnCtrlC);
        Path runDir = work.resolve("train");
        Path report = runDir.resolve("report").resolve(TrainingReport.HTML);
        return new Outcome(work, summary, classes, probe.records(kafka.topics().samplesTrain()),
            probe.records(kafka.topics().samplesVal()), result, work.resolve("checkpoints"),
            runDir.resolve("metrics.jsonl"), report);
      }
    }
  }

  /** Ends a run: the trainer finishes its step and writes a checkpoint (how a watching run ends). */
  public void stop() {
    stopRequested = true;
    Trainer t = trainer;
    if (t != null) {
      t.stop();
    }
  }

  /**
   * Called once, when ingest and augment are done and the topics hold every sample, just before the
   * trainer starts, with the broker and the trainer's configuration (the learning bench exports the
   * samples the trainer will read here). Runs on the run's thread: the training time starts after it.
   */
  public PipelineRun beforeTraining(BiConsumer<KafkaConnection, TrainerConfig> hook) {
    this.beforeTraining = hook;
    return this;
  }

  /** The embedded broker of a run under way (null before it starts). */
  public KafkaConnection kafka() {
    return kafka;
  }

  /** Waits until ingest and augment are done and training has begun. */
  public boolean awaitTraining(Duration timeout) throws InterruptedException {
    return trainerStarted.await(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  private Path demoImages(Path dir) {
    step("no --images given: writing a demo set of " + SyntheticImageSet.Shape.values().length + " classes to " + dir);
    SyntheticImageSet.write(dir, 60, 20, 96, cfg.seed());
    return dir;
  }

  /** Waits until augment has committed every image and the statistics count every training image. */
  private static void awaitAugmented(TopicProbe probe, KafkaConnection kafka) throws Exception {
    long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
    long trainImages = probe.trainImages();
    while (System.nanoTime() < deadline) {
      long lag = probe.lag(AUGMENT_APP_ID, kafka.topics().images());
      long counted = probe.statsCount().orElse(0L);
      if (lag == 0 && counted >= trainImages) {
        log.info("augment caught up: {} training images in the statistics", counted);
        return;
      }
      Thread.sleep(1000);
    }
    throw new IllegalStateException("augment did not catch up with the images topic within 10 minutes");
  }

  private TrainerConfig trainerConfig(int classes) {
    Path work = cfg.workDir();
    return TrainerConfig.smallPreset().classes(classes).cropSize(cfg.cropSize()).batchSize(cfg.batchSize())
        .epochs(cfg.watch() ? 0 : cfg.epochs() > 0 ? cfg.epochs() : RunConfig.DEFAULT_EPOCHS).follow(cfg.watch())
        .checkpointDir(work.resolve("checkpoints").toString()).runDir(work.resolve("train").toString())
        .devices(cfg.devices()).seed(cfg.seed()).maxSeconds(cfg.watch() ? 0 : cfg.trainTime().toSeconds())
        .engine(cfg.engine()).build();
  }

  private static void step(String what) {
    System.out.println("==> " + what);
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
