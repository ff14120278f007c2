package org.alexkafka.trainer.report;

import java.util.List;

/** Everything the training report shows. The confusion summary may be null before an evaluation. */
public record ReportData(String title, List<TrainPoint> training, List<EvalPoint> evaluations,
                         ConfusionSummary confusion, List<PredictionTile> tiles) {}
