package org.alexkafka.trainer.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Writes a run's report from its metrics file and the latest evaluation's collector. */
public final class TrainingReports {

  private static final Logger log = LoggerFactory.getLogger(TrainingReports.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private TrainingReports() {}

  /** {@code <runDir>/report/index.html}; a failure is logged, never fatal to training. */
  public static Path write(Path runDir, String title, ReportCollector evaluation) {
    return write(runDir, title, evaluation, null);
  }

  /**
   * The same; {@code fallbackConfig} (e.g. the configuration saved in a checkpoint) fills the
   * settings table when the metrics file has no start row (files of older trainers).
   */
  public static Path write(Path runDir, String title, ReportCollector evaluation, Object fallbackConfig) {
    Path dir = runDir.resolve("report");
    try {
      MetricsHistory.Series series = MetricsHistory.read(runDir.resolve("metrics.jsonl"));
      RunSettings settings = RunSettings.of(series, fallbackConfig == null ? null : JSON.valueToTree(fallbackConfig),
          Instant.now());
      Path html = TrainingReport.write(dir, ReportData.of(title, series, evaluation == null ? null : evaluation.confusion(),
          evaluation == null ? List.of() : evaluation.tiles(), settings));
      log.info("report written: {}", html.toAbsolutePath());
      return html;
    } catch (IOException | RuntimeException e) {
      log.warn("could not write the report in {}: {}", dir, e.toString());
      return dir.resolve(TrainingReport.HTML);
    }
  }
}
