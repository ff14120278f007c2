package org.alexkafka.trainer.train;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.alexkafka.schemas.Sample;
import org.alexkafka.schemas.config.KafkaConnection;
import org.alexkafka.schemas.serde.RecordSerdes;
import org.alexkafka.trainer.checkpoint.CheckpointState;
import org.alexkafka.trainer.checkpoint.CheckpointStore;
import org.alexkafka.trainer.data.BatchAssembler;
import org.alexkafka.trainer.data.BatchFeed;
import org.alexkafka.trainer.data.Cursor;
import org.alexkafka.trainer.data.BlockReader;
import org.alexkafka.trainer.data.MeanImage;
import org.alexkafka.trainer.data.SampleRef;
import org.alexkafka.trainer.data.ShuffledEpoch;
import org.alexkafka.trainer.data.StatsReader;
import org.alexkafka.trainer.data.TrainSample;
import org.alexkafka.trainer.eval.EvalResult;
import org.alexkafka.trainer.eval.Evaluator;
import org.alexkafka.trainer.report.ReportCollector;
import org.alexkafka.trainer.report.TrainingReports;
import org.alexkafka.trainer.eval.TopK;
import org.alexkafka.trainer.engine.Batch;
import org.alexkafka.trainer.engine.Engine;
import org.alexkafka.trainer.engine.Engines;
import org.alexkafka.trainer.model.AlexNetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The training service: one loop, nanoGPT style, with its state in plain fields.
 *
 * <pre>
 * restore the latest checkpoint (network, updater, iteration, epoch, lr, cursor) or build a fresh network
 * loop:
 *   batch  = next batchSize samples of the epoch, through the shuffle buffer   (data time)
 *   step   = the paper's momentum SGD on the batch, by the engine (dl4j or torch)  (compute time)
 *   every logEvery: log line + metrics row; every checkpointEvery: checkpoint
 *   epoch over: evaluate; the plateau rule keeps, divides or ends; checkpoint; next epoch, freshly shuffled
 * stop (epochs done, plateau after the last reduction, converged, limit, stop()): checkpoint, with the reason
 * </pre>
 *
 * An epoch is one pass over samples.train up to the end offsets taken when it starts, in a fresh
 * global order drawn from (seed, epoch) ({@link ShuffledEpoch}); samples published later join the
 * next epoch.
 *
 * <p>The engine stays open after {@link #run} (so its parameters can be read); {@link #close} frees it.
 */
public final class Trainer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Trainer.class);

  /** How a run ended. */
  public record Result(long iteration, int epoch, long samplesTrained, double learningRate, Path lastCheckpoint,
                       EvalResult lastEval, RunEnd ended) {

    /** True when the configured epochs are done. */
    public boolean finishedEpochs() {
      return ended == RunEnd.EPOCHS_DONE;
    }
  }

  private final TrainerConfig cfg;
  private final KafkaConnection kafka;
  private final MeterRegistry registry;
  private volatile boolean stopRequested;
  private Consumer<List<SampleRef>> batchListener = refs -> { };

  // the loop's state
  private Engine engine;
  private long iteration;
  private long samplesTrained;
  private long seed;
  private LearningRateSchedule schedule;
  private EvalResult lastEval;
  private ReportCollector lastCollector;
  private long lastEvalIteration = -1;
  private RunEnd runEnd;
  private Cursor trained; // where the epoch stands after the last trained batch

  public Trainer(TrainerConfig cfg, KafkaConnection kafka, MeterRegistry registry) {
    this.cfg = cfg;
    this.kafka = kafka;
    this.registry = registry;
  }

  /** Asks the loop to stop after the current step (it then writes a checkpoint). */
  public void stop() {
    stopRequested = true;
  }

  /** Called with the topic positions of every batch once it has been trained (for tests and tools). */
  public void onBatchTrained(Consumer<List<SampleRef>> listener) {
    this.batchListener = listener;
  }

  /** The engine training the network (after {@link #run}: holding the trained one). */
  public Engine engine() {
    return engine;
  }

  @Override
  public void close() {
    if (engine != null) {
      engine.close();
      engine = null;
    }
  }

  public Result run() {
    long started = System.nanoTime();
    MeanImage mean = StatsReader.latestMean(kafka, Duration.ofSeconds(cfg.statsTimeoutSeconds()));
    AlexNetSpec spec = cfg.spec();
    BatchAssembler assembler = new BatchAssembler(mean, spec.inputSize(), spec.classes());
    CheckpointStore store = new CheckpointStore(Path.of(cfg.checkpointDir()), cfg.keepCheckpoints());

    Cursor cursor = null;
    RunEnd endedBefore = null;
    Optional<Path> resumeFrom = cfg.fromBeginning() ? Optional.empty() : store.latest();
    if (resumeFrom.isPresent()) {
      CheckpointStore.Loaded loaded = CheckpointStore.load(resumeFrom.get());
      CheckpointState st = loaded.state();
      if (!st.config().spec().withSeed(0).equals(spec.withSeed(0))) {
        throw new IllegalArgumentException("checkpoint " + loaded.dir() + " holds " + st.config().spec()
            + " but this run asks for " + spec + "; use --from-beginning or another checkpoint directory");
      }
      engine = Engines.restore(cfg.engine(), spec, cfg.device(), cfg.devices(), loaded.parameters(), loaded.momentum());
      iteration = st.iteration();
      samplesTrained = st.samplesTrained();
      seed = st.seed();
      schedule = LearningRateSchedule.of(cfg, st.schedule());
      cursor = st.cursor();
      endedBefore = st.ended();
      log.info("resuming from {}: epoch {}, iteration {}, lr {} (saved by the {} engine, resumed by {})", loaded.dir(),
          st.epoch(), iteration, st.learningRate(), st.config().engine().id(), cfg.engine().id());
    } else {
      engine = Engines.create(cfg.engine(), spec, cfg.device(), cfg.devices());
      seed = cfg.seed();
      schedule = LearningRateSchedule.of(cfg, null);
    }
    log.info("training {} parameters ({} M) on the {} engine ({}), global batch {} over {} device(s)", engine.parameterCount(),
        String.format("%.1f", engine.parameterCount() / 1e6), engine.name(), engine.device(), cfg.batchSize(), cfg.devices());

    if ((endedBefore == RunEnd.PLATEAU || endedBefore == RunEnd.CONVERGED) && !cfg.follow()) {
      log.info("training in {} already ended: {}; use --from-beginning to train anew", cfg.checkpointDir(),
          endedBefore.description());
      return new Result(iteration, cursor.epoch(), samplesTrained, schedule.learningRate(), resumeFrom.get(), null,
          endedBefore);
    }
    TrainingMetrics metrics = new TrainingMetrics(Path.of(cfg.runDir()), registry);
    Evaluator evaluator = new Evaluator(kafka, assembler, cfg.batchSize());
    Path lastCheckpoint = resumeFrom.orElse(null);
    RunEnd ended = null;
    long iterationsThisRun = 0;

    try (KafkaConsumer<String, Sample> consumer = trainConsumer();
         // consumer lag and fetch rates as Micrometer meters (kafka.consumer.fetch.manager.records.lag.max ...)
         KafkaClientMetrics consumerMetrics = bind(new KafkaClientMetrics(consumer));
         ShuffledEpoch epoch = new ShuffledEpoch(new BlockReader(consumer, kafka.topics().samplesTrain(), assembler::problem),
             cfg.shuffleBlock(), cfg.shuffleBuffer(), 2 * cfg.batchSize());
         BatchFeed feed = new BatchFeed(assembler, cfg.batchSize(), 2)) {
      if (cursor != null && !cursor.atEpochStart()) {
        epoch.restore(cursor, seed);
        trained = epoch.cursor();
        feed.start(epoch);
      } else if (!startEpoch(epoch, feed, cursor == null ? 1 : cursor.epoch())) {
        return new Result(iteration, epoch.epoch(), samplesTrained, schedule.learningRate(), lastCheckpoint, null,
            stopRequested ? RunEnd.STOPPED : RunEnd.NO_SAMPLES);
      }
      engine.setLearningRate(cursor == null || cursor.atEpochStart() ? schedule.atEpochStart(epoch.epoch()) : schedule.learningRate());
      long rejectedSeen = 0;

      while (true) {
        if (stopRequested) {
          ended = RunEnd.STOPPED;
          break;
        }
        if (!cfg.follow() && epoch.epoch() > cfg.epochs()) {
          ended = RunEnd.EPOCHS_DONE;
          break;
        }
        ended = limitReached(started, iteration);
        if (ended != null) {
          break;
        }
        long t0 = System.nanoTime();
        BatchFeed.Fed fed = feed.next(); // read, shuffled and assembled ahead on the feed's and the loader's threads
        List<TrainSample> batch = fed.samples();
        boolean epochOver = fed.epochOver();
        if (!batch.isEmpty()) {
          Batch data = fed.batch();
          long t1 = System.nanoTime();
          long stepSeed = seed * 1_000_000_007L + iteration; // dropout masks depend on (seed, iteration) only
          double loss = engine.trainStep(data, stepSeed);
          long t2 = System.nanoTime();
          iteration++;
          iterationsThisRun++;
          samplesTrained += batch.size();
          trained = fed.after();
          metrics.step(batch.size(), loss, t1 - t0, t2 - t1);
          metrics.rejected(epoch.rejected() - rejectedSeen);
          rejectedSeen = epoch.rejected();
          batchListener.accept(batch.stream().map(TrainSample::ref).toList());
          if (iteration % cfg.logEvery() == 0) {
            double[] acc = TopK.accuracy(engine.predict(data), data.labels(), spec.classes());
            metrics.interval(epoch.epoch(), iteration, samplesTrained, acc[0], acc[1], schedule.learningRate());
          }
          if (cfg.checkpointEvery() > 0 && iteration % cfg.checkpointEvery() == 0) {
            lastCheckpoint = store.save(engine, state());
          }
        }
        if (epochOver) {
          int done = epoch.epoch();
          int next = done + 1;
          log.info("epoch {} done at iteration {} ({} samples trained in all)", done, iteration, samplesTrained);
          boolean nextStarted = false;
          if (cfg.follow() || next <= cfg.epochs()) {
            nextStarted = startEpoch(epoch, feed, next); // its buffer and first batches fill while the network is evaluated
          }
          if (cfg.evalEachEpoch()) {
            evaluateAndReport(evaluator, metrics, done);
            ended = applySchedule(metrics, done);
          }
          if (ended == null && !cfg.follow() && next > cfg.epochs()) {
            ended = RunEnd.EPOCHS_DONE;
          }
          if (ended == null && !nextStarted) {
            ended = stopRequested ? RunEnd.STOPPED : RunEnd.NO_SAMPLES;
          }
          if (ended != null) {
            if (epoch.epoch() != next) {
              epoch.startEpoch(next, seed); // the checkpoint then says: this epoch is done
              trained = epoch.cursor();
            }
            break;
          }
          engine.setLearningRate(schedule.atEpochStart(epoch.epoch()));
          lastCheckpoint = store.save(engine, state());
        }
      }
      runEnd = ended;
      if (iterationsThisRun > 0 || ended.finished()) {
        lastCheckpoint = store.save(engine, state());
      }
      boolean stoppedByLimit = (ended == RunEnd.MAX_ITERATIONS || ended == RunEnd.TIME_LIMIT) && iterationsThisRun > 0;
      if (stoppedByLimit && cfg.evalEachEpoch() && lastEvalIteration != iteration) {
        evaluateAndReport(evaluator, metrics, epoch.epoch()); // a bounded run ends with an evaluation
      }
      int lastEpoch = ended.finished() ? epoch.epoch() - 1 : epoch.epoch(); // finished: the next one has been set up
      log.info("training ended in epoch {}, iteration {}: {}", lastEpoch, iteration, ended.description());
      metrics.end(lastEpoch, iteration, samplesTrained, ended.name(), ended.description(), schedule.learningRate());
      if (lastEval != null) {
        writeReport(lastCollector);
      }
      return new Result(iteration, epoch.epoch(), samplesTrained, schedule.learningRate(), lastCheckpoint, lastEval, ended);
    }
  }

  /** Evaluates on samples.val, logs the metrics row and rewrites the report in the run directory. */
  private void evaluateAndReport(Evaluator evaluator, TrainingMetrics metrics, int epochNumber) {
    ReportCollector collector = new ReportCollector(cfg.spec().classes(), 32);
    lastEval = evaluator.evaluate(engine, collector);
    lastEvalIteration = iteration;
    lastCollector = collector;
    metrics.eval(epochNumber, iteration, lastEval);
    writeReport(collector);
  }

  private void writeReport(ReportCollector collector) {
    TrainingReports.write(Path.of(cfg.runDir()), "AlexNet training: " + cfg.profile() + " profile, " + cfg.classes() + " classes",
        collector);
  }

  /**
   * The plateau rule after an evaluation: keep, divide by 10 (logged and recorded), or end the run.
   * A run that follows the topic never ends by itself: past the last reduction it keeps its rate.
   */
  private RunEnd applySchedule(TrainingMetrics metrics, int epochNumber) {
    double before = schedule.learningRate();
    LearningRateSchedule.Decision decision = schedule.afterValidation(lastEval.centreTop1Error());
    switch (decision) {
      case REDUCE -> {
        LearningRateSchedule.State st = schedule.state();
        String why = String.format("validation error %.4f has not improved on %.4f by %.0f%% for %d evaluations",
            lastEval.centreTop1Error(), st.bestError(), 100 * cfg.lr().threshold(), cfg.lr().patience());
        log.info("{}: learning rate {} -> {} (reduction {} of {})", why, before, schedule.learningRate(), st.reductions(),
            cfg.lr().maxReductions());
        metrics.learningRateChange(epochNumber, iteration, before, schedule.learningRate(), st.reductions(), why);
        engine.setLearningRate(schedule.learningRate());
        return null;
      }
      case STOP_PLATEAU, STOP_CONVERGED -> {
        if (cfg.follow()) {
          return null;
        }
        return decision == LearningRateSchedule.Decision.STOP_PLATEAU ? RunEnd.PLATEAU : RunEnd.CONVERGED;
      }
      default -> {
        return null;
      }
    }
  }

  /** The checkpoint's state: the cursor after the last TRAINED batch (the feed may have read further). */
  private CheckpointState state() {
    return new CheckpointState(CheckpointState.FORMAT_VERSION, iteration, trained.epoch(), samplesTrained,
        schedule.learningRate(), schedule.state(), trained, cfg, seed, Instant.now().toString(), runEnd);
  }

  /** Starts an epoch and its feed; in follow mode waits for samples. False when there is nothing to train on. */
  private boolean startEpoch(ShuffledEpoch epoch, BatchFeed feed, int number) {
    while (true) {
      long span = epoch.startEpoch(number, seed);
      trained = epoch.cursor();
      if (span > 0) {
        feed.start(epoch);
        log.info("epoch {}: samples.train offsets {}", number, epoch.cursor().endOffsets());
        return true;
      }
      if (!cfg.follow()) {
        log.warn("{} holds no samples: nothing to train on", kafka.topics().samplesTrain());
        return false;
      }
      if (stopRequested) {
        return false;
      }
      log.info("waiting for samples on {}", kafka.topics().samplesTrain());
      try {
        Thread.sleep(2000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
  }

  private RunEnd limitReached(long started, long iterationNow) {
    if (cfg.maxIterations() > 0 && iterationNow >= cfg.maxIterations()) {
      log.info("reached {} iterations", cfg.maxIterations());
      return RunEnd.MAX_ITERATIONS;
    }
    if (cfg.maxSeconds() > 0 && System.nanoTime() - started > cfg.maxSeconds() * 1_000_000_000L) {
      log.info("reached the time limit of {} s", cfg.maxSeconds());
      return RunEnd.TIME_LIMIT;
    }
    return null;
  }

  private KafkaClientMetrics bind(KafkaClientMetrics metrics) {
    metrics.bindTo(registry);
    return metrics;
  }

  private KafkaConsumer<String, Sample> trainConsumer() {
    Map<String, Object> props = kafka.clientProperties();
    props.putAll(BlockReader.consumerSettings((long) cfg.shuffleBlock() * (3L * cfg.inputSize() * cfg.inputSize() + 512)));
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, "trainer");
    return new KafkaConsumer<>(props, new StringDeserializer(), RecordSerdes.sample());
  }
}
