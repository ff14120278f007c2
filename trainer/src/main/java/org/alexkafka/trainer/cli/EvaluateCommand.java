package org.alexkafka.trainer.cli;

import org.alexkafka.trainer.engine.Engine;
import org.alexkafka.trainer.engine.EngineKind;
import org.alexkafka.trainer.engine.Engines;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.function.BiConsumer;
import org.alexkafka.schemas.Sample;
import org.alexkafka.schemas.config.KafkaConnection;
import org.alexkafka.schemas.config.KafkaOptions;
import org.alexkafka.trainer.checkpoint.CheckpointStore;
import org.alexkafka.trainer.data.BatchAssembler;
import org.alexkafka.trainer.data.StatsReader;
import org.alexkafka.trainer.eval.EvalResult;
import org.alexkafka.trainer.eval.Evaluator;
import org.alexkafka.trainer.model.AlexNetSpec;
import org.alexkafka.trainer.report.LabelsReader;
import org.alexkafka.trainer.report.ReportCollector;
import org.alexkafka.trainer.report.TrainingReports;
import org.alexkafka.trainer.train.TrainerConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code evaluate --checkpoint DIR}: top-1/top-5 error of a checkpoint on samples.val (centre crop and 10 views). */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
    description = "Evaluate a checkpoint on samples.val: top-1/top-5 error, centre crop and 10-view average.")
public class EvaluateCommand implements Callable<Integer> {

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec; // the command line this runs in (for usage errors)

  @Mixin
  KafkaOptions kafka = new KafkaOptions();

  @Option(names = "--checkpoint", defaultValue = "${env:EVAL_CHECKPOINT:-}",
      description = "A checkpoint directory, or a checkpoint root (then its newest checkpoint).")
  String checkpoint;

  @Option(names = "--batch", defaultValue = "${env:EVAL_BATCH:-" + TrainerConfig.DEFAULT_BATCH + "}",
      description = "Samples per forward pass.")
  int batch;

  @Option(names = "--stats-timeout", defaultValue = "${env:EVAL_STATS_TIMEOUT:-" + TrainerConfig.DEFAULT_STATS_TIMEOUT_SECONDS + "}",
      description = "Seconds to wait for the mean image on the stats topic.")
  long statsTimeout;

  @Option(names = "--engine", defaultValue = "${env:EVAL_ENGINE:-}",
      description = "dl4j or torch; default: the engine that trained the checkpoint.")
  String engine;

  @Option(names = "--device", defaultValue = "${env:EVAL_DEVICE:-" + TrainerConfig.DEFAULT_DEVICE + "}",
      description = "cpu, cuda or cuda:N (torch only).")
  String device;

  @Option(names = "--report-dir", defaultValue = "${env:EVAL_REPORT_DIR:-}",
      description = "Also write the report (HTML + PNG) into DIR/report, with the training series of DIR/metrics.jsonl "
          + "(the trainer's --run-dir).")
  String reportRunDir;

  @Override
  public Integer call() {
    if (checkpoint == null || checkpoint.isBlank()) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(),
          "evaluate needs --checkpoint DIR (or env EVAL_CHECKPOINT)");
    }
    ReportCollector collector = null;
    Object trained = null; // the checkpoint's trainer configuration
    if (reportRunDir != null && !reportRunDir.isBlank()) {
      var config = CheckpointStore.load(Path.of(checkpoint)).state().config();
      trained = config;
      collector = new ReportCollector(config.spec().classes(), 32, LabelsReader.read(kafka.toConnection(), Duration.ofSeconds(10)));
    }
    EngineKind kind = engine == null || engine.isBlank() ? null : EngineKind.parse(engine);
    EvalResult r = evaluate(kafka.toConnection(), Path.of(checkpoint), kind, device, batch, Duration.ofSeconds(statsTimeout),
        collector == null ? (sample, p) -> { } : collector);
    System.out.println(r.summary());
    if (collector != null) {
      // the checkpoint's configuration fills the settings table when the run's metrics file does not have it
      System.out.println("report: " + TrainingReports.write(Path.of(reportRunDir), "AlexNet evaluation of " + checkpoint,
          collector, trained));
    }
    return 0;
  }

  public static EvalResult evaluate(KafkaConnection kafka, Path checkpoint, int batch, Duration statsTimeout) {
    return evaluate(kafka, checkpoint, null, "cpu", batch, statsTimeout, (sample, p) -> { });
  }

  /** Evaluates a checkpoint on {@code kind} (null: the engine that saved it), whichever engine trained it. */
  public static EvalResult evaluate(KafkaConnection kafka, Path checkpoint, EngineKind kind, String device, int batch,
                                    Duration statsTimeout, BiConsumer<Sample, float[]> centreViews) {
    CheckpointStore.Loaded loaded = CheckpointStore.load(checkpoint);
    AlexNetSpec spec = loaded.state().config().spec();
    BatchAssembler assembler = new BatchAssembler(StatsReader.latestMean(kafka, statsTimeout), spec.inputSize(), spec.classes());
    EngineKind use = kind != null ? kind : loaded.state().config().engine();
    try (Engine engine = Engines.restore(use, spec, device, 1, loaded.parameters(), null)) {
      return new Evaluator(kafka, assembler, batch).evaluate(engine, centreViews);
    }
  }
}
