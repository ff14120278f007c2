package org.alexkafka.trainer.report;

import java.util.List;

/**
 * Everything the training report shows. The confusion summary may be null before an evaluation;
 * {@code end} is null while the run goes on.
 */
public record ReportData(String title, List<TrainPoint> training, List<EvalPoint> evaluations,
                         List<RateChange> rateChanges, RunEndPoint end, ConfusionSummary confusion,
                         List<PredictionTile> tiles) {

  public ReportData(String title, List<TrainPoint> training, List<EvalPoint> evaluations, ConfusionSummary confusion,
                    List<PredictionTile> tiles) {
    this(title, training, evaluations, List.of(), null, confusion, tiles);
  }
}
