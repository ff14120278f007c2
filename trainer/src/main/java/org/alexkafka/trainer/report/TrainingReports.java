package org.alexkafka.trainer.report;

import java.io.IOException;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Writes a run's report from its metrics file and the latest evaluation's collector. */
public final class TrainingReports {

  private static final Logger log = LoggerFactory.getLogger(TrainingReports.class);

  private TrainingReports() {}

  /** {@code <runDir>/report/index.html}; a failure is logged, never fatal to training. */
  public static Path write(Path runDir, String title, ReportCollector evaluation) {
    Path dir = runDir.resolve("report");
    try {
      MetricsHistory.Series series = MetricsHistory.read(runDir.resolve("metrics.jsonl"));
      Path html = TrainingReport.write(dir, new ReportData(title, series.training(), series.evaluations(),
          series.rateChanges(), series.end(), evaluation == null ? null : evaluation.confusion(), evaluation == null ? java.util.List.of() : evaluation.tiles()));
      log.info("report written: {}", html.toAbsolutePath());
      return html;
    } catch (IOException | RuntimeException e) {
      log.warn("could not write the report in {}: {}", dir, e.toString());
      return dir.resolve(TrainingReport.HTML);
    }
  }
}
