package org.alexkafka.trainer.train;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.TreeMap;
import org.alexkafka.trainer.data.EpochShards;
import org.alexkafka.trainer.distributed.ProcessGroup;
import org.alexkafka.trainer.distributed.World;
import org.alexkafka.trainer.engine.EngineKind;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.alexkafka.schemas.Sample;
import org.alexkafka.schemas.config.KafkaConnection;
import org.alexkafka.trainer.checkpoint.CheckpointState;
import org.alexkafka.trainer.checkpoint.CheckpointStore;
import org.alexkafka.trainer.data.BatchAssembler;
import org.alexkafka.trainer.data.BatchFeed;
import org.alexkafka.trainer.data.ReusingSampleDeserializer;
import org.alexkafka.trainer.data.Cursor;
import org.alexkafka.trainer.data.BlockReader;
import org.alexkafka.trainer.data.MeanImage;
import org.alexkafka.trainer.data.SampleRef;
import org.alexkafka.trainer.data.ShuffledEpoch;
import org.alexkafka.trainer.data.StatsReader;
import org.alexkafka.trainer.data.TrainSample;
import org.alexkafka.trainer.eval.EvalResult;
import org.alexkafka.trainer.eval.Evaluator;
import org.alexkafka.trainer.report.LabelsReader;
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
 * rank 0 restores the latest checkpoint (network, momentum, iteration, lr, cursor) or starts afresh; every rank takes its state and weights
 * loop:
 *   slices = this rank's slices of the next global batch, shuffled and assembled ahead      (data time)
 *   agree  = one small sum over the ranks: samples in the step, epoch over?, stop?, every shard's position
 *   step   = the paper's momentum SGD on the global batch (gradients summed over the ranks)  (compute time)
 *   every logEvery: log line + metrics row; every checkpointEvery: rank 0 checkpoints
 *   epoch over: rank 0 evaluates; the plateau rule keeps, divides or ends; checkpoint; next epoch, freshly shuffled
 * stop (epochs done, plateau after the last reduction, converged, limit, stop()): checkpoint, with the reason
 * </pre>
 *
 * An epoch is one pass over samples.train up to the end offsets rank 0 takes when it starts, in a
 * fresh global order drawn from (seed, epoch) ({@link ShuffledEpoch}), cut into shards ({@link
 * EpochShards}: one per rank by default); samples published later join the next epoch. With one
 * process and one shard it is the engine's plain step; otherwise the DDP recipe: every rank takes
 * the gradient of its slices, c10d sums them, every rank applies the same update.
 *
 * <p>A rank that dies makes the others fail at their next collective ({@link
 * org.alexkafka.trainer.distributed.GroupFailure}); restarted, the group resumes from rank 0's
 * last checkpoint, which was written whole or not at all.
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
  private final World world;
  private final int shards;
  private volatile boolean stopRequested;
  private Consumer<List<SampleRef>> batchListener = refs -> { };

  // the loop's state
  private Engine engine;
  private ProcessGroup group = ProcessGroup.solo();
  private int sourcesOpened;
  private BatchAssembler assembler;
  private long iteration;
  private long samplesTrained;
  private long seed;
  private LearningRateSchedule schedule;
  private EvalResult lastEval;
  private ReportCollector lastCollector;
  private TrainingMetrics metrics; // null until the run's metrics file is open
  private long lastEvalIteration = -1;
  private RunEnd runEnd;
  private Cursor trained; // where the epoch stands after the last trained batch
  private CheckpointStore.SaveFailed finalSaveFailed; // the run's last checkpoint could not be written

  /** One process, as most runs are. */
  public Trainer(TrainerConfig cfg, KafkaConnection kafka, MeterRegistry registry) {
    this(cfg, kafka, registry, World.single(), 0);
  }

  /**
   * Rank {@code world.rank()} of a data-parallel run (torch engine).
   *
   * @param shards the shards new epochs are cut into (0: one per rank); a resumed epoch keeps its own
   */
  public Trainer(TrainerConfig cfg, KafkaConnection kafka, MeterRegistry registry, World world, int shards) {
    if (shards < 0) {
      throw new IllegalArgumentException("shards must be >= 0 (0: one per rank), got " + shards);
    }
    this.cfg = cfg;
    this.kafka = kafka;
    this.registry = registry;
    this.world = world;
    this.shards = shards == 0 ? world.size() : shards;
    if (this.shards > cfg.batchSize()) {
      throw new IllegalArgumentException(this.shards + " shards cannot share a global batch of " + cfg.batchSize());
    }
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
    group.close();
    group = ProcessGroup.solo();
    if (engine != null) {
      engine.close();
      engine = null;
    }
  }

  /**
   * Trains until the run ends. A periodic or epoch-end checkpoint that cannot be written (disk
   * full, ...) is logged and training goes on; when the run's final checkpoint cannot be written the
   * run still ends as usual (metrics, report), then this throws {@link CheckpointStore.SaveFailed}
   * saying what was lost and which checkpoint a restart resumes from.
   */
  public Result run() {
    Result result = train();
    group.barrier(); // a normal end: rank 0 (which serves the group) leaves only when every rank is done
    if (finalSaveFailed != null) {
      throw finalSaveFailed;
    }
    return result;
  }

  private Result train() {
    long started = System.nanoTime();
    boolean dataParallel = world.distributed() || shards > 1;
    if (dataParallel && cfg.engine() != EngineKind.TORCH) {
      throw new IllegalArgumentException("data parallelism over processes (" + world + ", " + shards + " shard(s)) needs "
          + "--engine torch; the dl4j engine trains in one process (--devices)");
    }
    StatsReader.Latest stats = StatsReader.latest(kafka, Duration.ofSeconds(cfg.statsTimeoutSeconds()));
    if (stats.skipped() > 0) {
      log.warn("{} record(s) of {} skipped (each logged with its offset); the mean image is the newest good one",
          stats.skipped(), kafka.topics().stats());
    }
    MeanImage mean = stats.mean();
    AlexNetSpec spec = cfg.spec();
    CheckpointStore store = new CheckpointStore(Path.of(cfg.checkpointDir()), cfg.keepCheckpoints());

    engine = Engines.create(cfg.engine(), spec, deviceOfThisRank(), cfg.devices());
    // by default 8-bit crops to a GPU, converted there; on the CPU the feed threads convert them
    assembler = new BatchAssembler(mean, spec.inputSize(), spec.classes(), cfg.batchForm().forEngine(engine));
    group = engine.joinGroup(world);
    // rank 0 alone reads the checkpoint; the others take its state from it, and its weights below
    Resume resume = decode(group.decideOnRankZero("resume", () -> encode(resumeOnRankZero(store, spec))), Resume.class);
    engine.synchronize(group); // every rank starts from rank 0's weights and momentum
    iteration = resume.iteration();
    samplesTrained = resume.samplesTrained();
    seed = resume.seed();
    schedule = LearningRateSchedule.of(cfg, resume.schedule());
    Cursor cursor = resume.cursor();
    Path lastCheckpoint = resume.from() == null ? null : Path.of(resume.from());
    log.info("training {} parameters ({} M) on the {} engine ({}), global batch {} over {} device(s){}", engine.parameterCount(),
        String.format("%.1f", engine.parameterCount() / 1e6), engine.name(), engine.device(), cfg.batchSize(),
        dataParallel ? world.size() : cfg.devices(), dataParallel ? ", " + world + ", epochs cut into " + shards + " shard(s)" : "");

    if ((resume.ended() == RunEnd.PLATEAU || resume.ended() == RunEnd.CONVERGED) && !cfg.follow()) {
      log.info("training in {} already ended: {}; use --from-beginning to train anew", cfg.checkpointDir(),
          resume.ended().description());
      return new Result(iteration, cursor.epoch(), samplesTrained, schedule.learningRate(), lastCheckpoint, null,
          resume.ended());
    }
    Path runDir = world.leader() ? Path.of(cfg.runDir()) : Path.of(cfg.runDir(), "rank-" + world.rank());
    TrainingMetrics metrics = new TrainingMetrics(runDir, registry);
    metrics.start(cursor == null ? 1 : cursor.epoch(), iteration, cfg, engine.name(), engine.device(), engine.parameterCount(),
        seed, stats.stats().getCount());
    this.metrics = metrics;
    Evaluator evaluator = new Evaluator(kafka, assembler, cfg.batchSize());
    RunEnd ended = null;
    long iterationsThisRun = 0;
    int sliceMax = EpochShards.sliceSize(cfg.batchSize(), 0, shards);

    try (EpochShards epoch = new EpochShards(this::openSource, assembler, cfg.shuffleBlock(), cfg.shuffleBuffer(),
        2 * sliceMax, cfg.batchSize(), world.rank(), world.size())) {
      if (cursor != null && !cursor.atEpochStart()) {
        epoch.restore(cursor, seed);
        trained = cursor;
      } else if (!startEpoch(epoch, cursor == null ? 1 : cursor.epoch())) {
        return new Result(iteration, epoch.epoch(), samplesTrained, schedule.learningRate(), lastCheckpoint, null,
            stopRequested ? RunEnd.STOPPED : RunEnd.NO_SAMPLES);
      }
      engine.setLearningRate(cursor == null || cursor.atEpochStart() ? schedule.atEpochStart(epoch.epoch()) : schedule.learningRate());
      long rejectedSeen = 0;

      while (true) {
        if (!cfg.follow() && epoch.epoch() > cfg.epochs()) {
          ended = RunEnd.EPOCHS_DONE;
          break;
        }
        if (cfg.maxIterations() > 0 && iteration >= cfg.maxIterations()) {
          log.info("reached {} iterations", cfg.maxIterations());
          ended = RunEnd.MAX_ITERATIONS;
          break;
        }
        long t0 = System.nanoTime();
        // this rank's slices of the global batch, read, shuffled and assembled ahead on the feeds' and loaders' threads
        List<EpochShards.Slice> slices = epoch.next();
        Step step = agree(epoch, slices, started);
        if (step.stop() != null) {
          ended = step.stop();
          break;
        }
        if (step.samples() > 0) {
          long t1 = System.nanoTime();
          double loss = train(slices, step.samples(), dataParallel);
          long t2 = System.nanoTime();
          iteration++;
          iterationsThisRun++;
          samplesTrained += step.samples();
          metrics.step((int) step.samples(), loss, t1 - t0, t2 - t1);
          metrics.rejected(epoch.rejected() - rejectedSeen);
          rejectedSeen = epoch.rejected();
          batchListener.accept(slices.stream().flatMap(s -> s.fed().samples().stream()).map(TrainSample::ref).toList());
          if (iteration % cfg.logEvery() == 0) {
            Batch shown = slices.stream().map(s -> s.fed().batch()).filter(b -> b != null).findFirst().orElse(null);
            double[] acc = shown == null ? new double[] {Double.NaN, Double.NaN}
                : TopK.accuracy(engine.predict(shown), shown.labels(), spec.classes());
            metrics.interval(epoch.epoch(), iteration, samplesTrained, acc[0], acc[1], schedule.learningRate());
          }
        }
        epoch.recycle(slices); // nothing reads this step's batches any more
        trained = step.cursor();
        if (step.samples() > 0 && cfg.checkpointEvery() > 0 && iteration % cfg.checkpointEvery() == 0) {
          lastCheckpoint = save(store, lastCheckpoint);
        }
        if (step.epochOver()) {
          int done = epoch.epoch();
          int next = done + 1;
          log.info("epoch {} done at iteration {} ({} samples trained in all)", done, iteration, samplesTrained);
          boolean nextStarted = false;
          if (cfg.follow() || next <= cfg.epochs()) {
            nextStarted = startEpoch(epoch, next); // its buffer and first batches fill while the network is evaluated
          }
          if (cfg.evalEachEpoch()) {
            // rank 0 evaluates and applies the plateau rule; every rank takes its verdict
            Verdict v = decode(group.decideOnRankZero("epoch-" + done + "-verdict", () -> {
              evaluateAndReport(evaluator, metrics, done);
              return encode(new Verdict(applySchedule(metrics, done), schedule.state()));
            }), Verdict.class);
            ended = v.ended();
            schedule = LearningRateSchedule.of(cfg, v.schedule());
            engine.setLearningRate(schedule.learningRate());
          }
          if (ended == null && !cfg.follow() && next > cfg.epochs()) {
            ended = RunEnd.EPOCHS_DONE;
          }
          if (ended == null && !nextStarted) {
            ended = stopRequested ? RunEnd.STOPPED : RunEnd.NO_SAMPLES;
          }
          if (ended != null) {
            if (epoch.epoch() != next) {
              startEpochAt(epoch, next, trained.endOffsets()); // the checkpoint then says: this epoch is done
            }
            break;
          }
          engine.setLearningRate(schedule.atEpochStart(epoch.epoch()));
          lastCheckpoint = save(store, lastCheckpoint);
        }
      }
      runEnd = ended;
      if (iterationsThisRun > 0 || ended.finished()) {
        lastCheckpoint = saveFinal(store, lastCheckpoint);
      }
      boolean stoppedByLimit = (ended == RunEnd.MAX_ITERATIONS || ended == RunEnd.TIME_LIMIT) && iterationsThisRun > 0;
      if (stoppedByLimit && cfg.evalEachEpoch() && lastEvalIteration != iteration && world.leader()) {
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

  /** What every rank learns from the others before a step: the global batch's size, whether to stop, where all shards stand. */
  private record Step(long samples, boolean epochOver, RunEnd stop, Cursor cursor) {
  }

  /**
   * One small sum over the group per step, before the compute: samples in this step, ranks whose
   * shards are over, stop requests (any rank's SIGTERM; rank 0's clock for the time limit) and
   * every shard's position after the step (the checkpoint's cursor).
   */
  private Step agree(EpochShards epoch, List<EpochShards.Slice> slices, long started) {
    long[] positions = epoch.localPositions();
    double[] v = new double[4 + positions.length];
    v[0] = slices.stream().mapToInt(s -> s.fed().samples().size()).sum();
    v[1] = epoch.localOver() ? 1 : 0;
    v[2] = stopRequested ? 1 : 0;
    v[3] = world.leader() && cfg.maxSeconds() > 0 && System.nanoTime() - started > cfg.maxSeconds() * 1_000_000_000L ? 1 : 0;
    for (int i = 0; i < positions.length; i++) {
      v[4 + i] = positions[i];
    }
    group.allReduceSum(v);
    long[] all = new long[positions.length];
    for (int i = 0; i < all.length; i++) {
      all[i] = Math.round(v[4 + i]);
    }
    RunEnd stop = null;
    if (v[2] > 0) {
      stop = RunEnd.STOPPED;
    } else if (v[3] > 0) {
      log.info("reached the time limit of {} s", cfg.maxSeconds());
      stop = RunEnd.TIME_LIMIT;
    }
    return new Step(Math.round(v[0]), Math.round(v[1]) == group.size(), stop, epoch.cursor(all));
  }

  /**
   * The step on this rank's slices: with one slice in one process the engine's own step; else
   * each slice's gradient (its own dropout masks) weighted by its size, summed over the ranks and
   * divided by the global batch's size, as DDP does. Returns the global batch's mean loss.
   */
  private double train(List<EpochShards.Slice> slices, long globalSamples, boolean dataParallel) {
    if (!dataParallel) {
      return engine.trainStep(slices.get(0).fed().batch(), stepSeed(0));
    }
    double lossSum = 0;
    for (EpochShards.Slice s : slices) {
      Batch b = s.fed().batch();
      if (b != null) {
        lossSum += engine.accumulateGradient(b, stepSeed(s.shard()), b.size()) * b.size();
      }
    }
    engine.stepAccumulated(group, 1.0 / globalSamples);
    double[] loss = {lossSum};
    group.allReduceSum(loss);
    return loss[0] / globalSamples;
  }

  /** Dropout masks depend on (seed, iteration, shard) only: the same whichever rank trains the shard. */
  private long stepSeed(int shard) {
    return seed * 1_000_000_007L + iteration + shard * 0x9E3779B97F4A7C15L;
  }

  /** Where training stands when it starts: rank 0 reads the newest checkpoint into its engine, or starts afresh. */
  private Resume resumeOnRankZero(CheckpointStore store, AlexNetSpec spec) {
    Optional<Path> from = cfg.fromBeginning() ? Optional.empty() : store.latest();
    if (from.isEmpty()) {
      return new Resume(0, 0, cfg.seed(), null, null, null, null);
    }
    CheckpointStore.Loaded loaded = CheckpointStore.load(from.get());
    CheckpointState st = loaded.state();
    if (!st.config().spec().withSeed(0).equals(spec.withSeed(0))) {
      throw new IllegalArgumentException("checkpoint " + loaded.dir() + " holds " + st.config().spec()
          + " but this run asks for " + spec + "; use --from-beginning or another checkpoint directory");
    }
    engine.load(loaded.parameters(), loaded.momentum());
    log.info("resuming from {}: epoch {}, iteration {}, lr {} (saved by the {} engine, resumed by {})", loaded.dir(),
        st.epoch(), st.iteration(), st.learningRate(), st.config().engine().id(), cfg.engine().id());
    return new Resume(st.iteration(), st.samplesTrained(), st.seed(), st.cursor(), st.schedule(), st.ended(),
        loaded.dir().toString());
  }

  /**
   * Rank 0 writes the checkpoint, with every shard's position; the other ranks keep the one they know
   * of. One that cannot be written (the disk full, ...) is one warning line naming the directory, the
   * reason and the checkpoint still there; training goes on and the next checkpoint tries again (a
   * long run should not die for a checkpoint it can write later): the newest checkpoint stays.
   */
  private Path save(CheckpointStore store, Path last) {
    if (!world.leader()) {
      return last;
    }
    try {
      return store.save(engine, state());
    } catch (CheckpointStore.SaveFailed e) {
      registry.counter("trainer.checkpoints.failed").increment();
      String next = cfg.checkpointEvery() > 0
          ? "at iteration " + (iteration / cfg.checkpointEvery() + 1) * cfg.checkpointEvery() : "at the end of the epoch";
      log.warn("{}; training goes on and tries again {}", e.getMessage(), next);
      return e.previous().orElse(last);
    }
  }

  /**
   * The run's last checkpoint: one that cannot be written must not be lost silently. Logged as an
   * error; the run ends as usual, then {@link #run} throws (the CLI exits non-zero).
   */
  private Path saveFinal(CheckpointStore store, Path last) {
    if (!world.leader()) {
      return last;
    }
    try {
      return store.save(engine, state());
    } catch (CheckpointStore.SaveFailed e) {
      registry.counter("trainer.checkpoints.failed").increment();
      String resume = e.previous().isPresent() ? "a restart resumes from it" : "a restart starts afresh";
      finalSaveFailed = new CheckpointStore.SaveFailed("the run's final " + e.getMessage() + "; " + resume,
          (IOException) e.getCause(), e.iteration(), e.previous().orElse(null));
      log.error("{}", finalSaveFailed.getMessage());
      return e.previous().orElse(null);
    }
  }

  /** How a run resumes, as rank 0 tells every rank. */
  private record Resume(long iteration, long samplesTrained, long seed, Cursor cursor, LearningRateSchedule.State schedule,
                        RunEnd ended, String from) {
  }

  /** Rank 0's verdict after an evaluation: how the run ends (null: it goes on), the schedule after it. */
  private record Verdict(RunEnd ended, LearningRateSchedule.State schedule) {
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  private static String encode(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static <T> T decode(String json, Class<T> type) {
    try {
      return JSON.readValue(json, type);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read rank 0's " + type.getSimpleName() + ": " + json, e);
    }
  }

  /** The CUDA device of a rank: its local rank's when the run asks for plain "cuda". */
  private String deviceOfThisRank() {
    return cfg.device().equals("cuda") && world.distributed() ? "cuda:" + world.localRank() : cfg.device();
  }

  /** A shard's readers: {@link ShuffledEpoch#READERS} consumers, so that several block fetches are in flight at once. */
  private EpochShards.Source openSource() {
    List<KafkaConsumer<String, Sample>> consumers = new ArrayList<>();
    List<KafkaClientMetrics> bound = new ArrayList<>();
    List<BlockReader> readers = new ArrayList<>();
    for (int i = 0; i < ShuffledEpoch.READERS; i++) {
      KafkaConsumer<String, Sample> consumer = trainConsumer(sourcesOpened++);
      KafkaClientMetrics consumerMetrics = new KafkaClientMetrics(consumer);
      consumerMetrics.bindTo(registry); // consumer lag and fetch rates (kafka.consumer.fetch.manager.records.lag.max ...)
      consumers.add(consumer);
      bound.add(consumerMetrics);
      readers.add(new BlockReader(consumer, kafka.topics().samplesTrain(), assembler::problem));
    }
    return new EpochShards.Source(readers, () -> {
      bound.forEach(KafkaClientMetrics::close);
      consumers.forEach(KafkaConsumer::close);
    });
  }


  /** Evaluates on samples.val, logs the metrics row and rewrites the report in the run directory. */
  private void evaluateAndReport(Evaluator evaluator, TrainingMetrics metrics, int epochNumber) {
    ReportCollector collector = new ReportCollector(cfg.spec().classes(), 32, LabelsReader.read(kafka, Duration.ofSeconds(10)));
    lastEval = evaluator.evaluate(engine, collector);
    if (evaluator.skipped() > 0) {
      log.warn("evaluation: {} record(s) of {} skipped (each logged with its offset); {} views scored", evaluator.skipped(),
          kafka.topics().samplesVal(), evaluator.viewsScored());
    }
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

  /**
   * Starts an epoch on every rank, up to the end offsets rank 0 takes now; in follow mode waits
   * for samples. False when there is nothing to train on.
   */
  private boolean startEpoch(EpochShards epoch, int number) {
    for (int attempt = 0; ; attempt++) {
      String decided = group.decideOnRankZero("epoch-" + number + "-ends-" + attempt,
          () -> stopRequested ? "stop" : encode(epoch.endOffsetsNow()));
      if (decided.equals("stop")) {
        return false;
      }
      Map<Integer, Long> ends = JSON.convertValue(decode(decided, Map.class), new TypeReference<Map<Integer, Long>>() { });
      long span = startEpochAt(epoch, number, ends);
      if (span > 0) {
        log.info("epoch {}: samples.train offsets {}", number, new TreeMap<>(ends));
        if (metrics != null) {
          metrics.epochStarted(number, iteration, span);
        }
        return true;
      }
      if (!cfg.follow()) {
        log.warn("{} holds no samples: nothing to train on", kafka.topics().samplesTrain());
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

  private long startEpochAt(EpochShards epoch, int number, Map<Integer, Long> ends) {
    long span = epoch.start(number, seed, ends, shards);
    trained = epoch.cursor(new long[epoch.shards()]);
    return span;
  }

  private KafkaConsumer<String, Sample> trainConsumer(int slot) {
    Map<String, Object> props = kafka.clientProperties();
    props.putAll(BlockReader.consumerSettings((long) cfg.shuffleBlock() * (3L * cfg.inputSize() * cfg.inputSize() + 512)));
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, "trainer" + (world.distributed() ? "-rank" + world.rank() : "")
        + (slot > 0 ? "-" + slot : ""));
    return new KafkaConsumer<>(props, new StringDeserializer(), new ReusingSampleDeserializer(assembler.pixelBuffers()));
  }
}
