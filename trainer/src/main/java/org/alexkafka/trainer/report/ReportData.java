package org.alexkafka.trainer.report;

import java.util.List;

/**
 * Everything the training report shows. The confusion summary may be null before an evaluation;
 * {@code end} is null while the run goes on (the page then reloads itself).
 */
public record ReportData(String title, List<TrainPoint> training, List<EvalPoint> evaluations,
                         List<RateChange> rateChanges, RunEndPoint end, ConfusionSummary confusion,
                         List<PredictionTile> tiles, List<EpochStart> epochs, RunSettings settings) {

  public ReportData(String title, List<TrainPoint> training, List<EvalPoint> evaluations, ConfusionSummary confusion,
                    List<PredictionTile> tiles) {
    this(title, training, evaluations, List.of(), null, confusion, tiles, List.of(), RunSettings.none());
  }

  /** A run's report from its metrics file's series and its latest evaluation. */
  public static ReportData of(String title, MetricsHistory.Series series, ConfusionSummary confusion,
                              List<PredictionTile> tiles, RunSettings settings) {
    return new ReportData(title, series.training(), series.evaluations(), series.rateChanges(), series.end(), confusion,
        tiles, series.epochs(), settings);
  }

  public boolean running() {
    return end == null;
  }
}
