package org.alexkafka.trainer.train;

/** Why a training run ended; logged, written to the metrics and shown in the report. */
public enum RunEnd {
  EPOCHS_DONE("the configured epochs are done", true),
  PLATEAU("validation error stopped improving after the last allowed learning-rate reduction (the paper's termination)", true),
  CONVERGED("validation error reached 0", true),
  MAX_ITERATIONS("the iteration limit was reached", false),
  TIME_LIMIT("the time limit was reached", false),
  STOPPED("asked to stop", false),
  NO_SAMPLES("samples.train holds no samples", false);

  private final String description;
  private final boolean finished;

  RunEnd(String description, boolean finished) {
    this.description = description;
    this.finished = finished;
  }

  public String description() {
    return description;
  }

  /** True when training is over for good: a restart from the checkpoint trains no further. */
  public boolean finished() {
    return finished;
  }
}
