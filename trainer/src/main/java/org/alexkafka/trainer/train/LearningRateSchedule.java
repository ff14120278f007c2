package org.alexkafka.trainer.train;

import java.util.List;

/**
 * The learning-rate policy. "plateau": the paper's rule, ε divided by 10 when the validation error
 * has not improved for {@code patience} evaluations. "steps": ε divided by 10 after each listed
 * epoch. Its whole state is a {@link State}, saved in checkpoints.
 */
public final class LearningRateSchedule {

  /** @param learningRate current ε; @param bestError lowest validation top-1 error so far (NaN: none) */
  public record State(double learningRate, double bestError, int sinceBest, int reductions) {
  }

  private final String kind;
  private final double initial;
  private final int patience;
  private final List<Integer> steps;
  private State state;

  public LearningRateSchedule(String kind, double initial, int patience, List<Integer> steps, State restored) {
    this.kind = kind;
    this.initial = initial;
    this.patience = Math.max(1, patience);
    this.steps = List.copyOf(steps);
    this.state = restored != null ? restored : new State(initial, Double.NaN, 0, 0);
  }

  public static LearningRateSchedule of(TrainerConfig c, State restored) {
    return new LearningRateSchedule(c.lrSchedule(), c.learningRate(), c.patience(), c.lrSteps(), restored);
  }

  public State state() {
    return state;
  }

  public double learningRate() {
    return state.learningRate();
  }

  /** The rate for an epoch that starts now. */
  public double atEpochStart(int epoch) {
    if (kind.equals("steps")) {
      long passed = steps.stream().filter(s -> epoch > s).count();
      state = new State(initial * Math.pow(0.1, passed), state.bestError(), state.sinceBest(), (int) passed);
    }
    return state.learningRate();
  }

  /** Takes a validation top-1 error; returns the (possibly reduced) rate. */
  public double afterValidation(double error) {
    if (Double.isNaN(error)) {
      return state.learningRate();
    }
    boolean improved = Double.isNaN(state.bestError()) || error < state.bestError();
    double best = improved ? error : state.bestError();
    int since = improved ? 0 : state.sinceBest() + 1;
    double lr = state.learningRate();
    int reductions = state.reductions();
    if (kind.equals("plateau") && since >= patience) {
      lr /= 10;
      reductions++;
      since = 0;
    }
    state = new State(lr, best, since, reductions);
    return lr;
  }
}
