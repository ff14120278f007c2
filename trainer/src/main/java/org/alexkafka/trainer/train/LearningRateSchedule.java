package org.alexkafka.trainer.train;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.List;
import org.alexkafka.schemas.config.EnumIds;

/**
 * The learning-rate policy. "plateau" is the paper's rule: ε divided by 10 when the validation
 * error stops improving (no relative improvement of at least {@code threshold} over the best for
 * {@code patience} evaluations), "reduced three times prior to termination": at the next plateau
 * after {@code maxReductions} reductions the run ends, and a run whose validation error reaches 0
 * ends as converged. "steps" divides by 10 after each listed epoch and never ends a run. Its whole
 * state is a {@link State}, saved in checkpoints.
 */
public final class LearningRateSchedule {

  /** The two policies. */
  public enum Rule {
    /** the paper's: divide by 10 at a plateau of the validation error, end after the last reduction */
    PLATEAU,
    /** divide by 10 after each listed epoch */
    STEPS;

    /** The lower-case name used on the command line and in checkpoints. */
    @JsonValue
    public String id() {
      return EnumIds.id(this);
    }

    @Override
    public String toString() {
      return id();
    }

    /** "plateau" or "steps", in any case. */
    @JsonCreator
    public static Rule parse(String id) {
      return EnumIds.parse(Rule.class, id, "lr schedule");
    }
  }

  /** How the rate is set; part of the trainer's configuration. */
  public record Settings(Rule kind, double initial, int patience, double threshold, int maxReductions,
                         List<Integer> steps) {

    public static final Rule DEFAULT_RULE = Rule.PLATEAU;
    public static final double DEFAULT_INITIAL = 0.01;
    public static final int DEFAULT_PATIENCE = 2;
    public static final double DEFAULT_THRESHOLD = 0.01;
    public static final int DEFAULT_MAX_REDUCTIONS = 3;

    public Settings {
      if (kind == null) {
        throw new IllegalArgumentException("lr schedule must be plateau or steps");
      }
      if (!(initial > 0) || patience < 1 || threshold < 0 || threshold >= 1 || maxReductions < 0) {
        throw new IllegalArgumentException("need lr > 0, patience >= 1, 0 <= threshold < 1, max reductions >= 0; got lr "
            + initial + ", patience " + patience + ", threshold " + threshold + ", max reductions " + maxReductions);
      }
      steps = steps == null ? List.of() : List.copyOf(steps);
    }

    /** The paper's: ε 0.01, plateau with patience 2, 1% relative threshold, three reductions. */
    public static Settings paper() {
      return new Settings(DEFAULT_RULE, DEFAULT_INITIAL, DEFAULT_PATIENCE, DEFAULT_THRESHOLD, DEFAULT_MAX_REDUCTIONS, List.of());
    }

    public Settings withInitial(double lr) {
      return new Settings(kind, lr, patience, threshold, maxReductions, steps);
    }

    public Settings withPatience(int evaluations) {
      return new Settings(kind, initial, evaluations, threshold, maxReductions, steps);
    }
  }

  /**
   * @param learningRate current ε
   * @param bestError lowest validation top-1 error so far (NaN: none)
   * @param sinceBest evaluations since the last improvement
   * @param reductions divisions by 10 so far
   */
  public record State(double learningRate, double bestError, int sinceBest, int reductions) {
  }

  /** What an evaluation led to. */
  public enum Decision {
    KEEP, REDUCE,
    /** the plateau after the last allowed reduction: the paper's termination */
    STOP_PLATEAU,
    /** validation error 0: nothing left to learn on this data */
    STOP_CONVERGED
  }

  private final Settings settings;
  private State state;

  public LearningRateSchedule(Settings settings, State restored) {
    this.settings = settings;
    this.state = restored != null ? restored : new State(settings.initial(), Double.NaN, 0, 0);
  }

  public static LearningRateSchedule of(TrainerConfig c, State restored) {
    return new LearningRateSchedule(c.lr(), restored);
  }

  public State state() {
    return state;
  }

  public double learningRate() {
    return state.learningRate();
  }

  /** The rate for an epoch that starts now. */
  public double atEpochStart(int epoch) {
    if (settings.kind() == Rule.STEPS) {
      long passed = settings.steps().stream().filter(s -> epoch > s).count();
      state = new State(settings.initial() * Math.pow(0.1, passed), state.bestError(), state.sinceBest(), (int) passed);
    }
    return state.learningRate();
  }

  /** Takes a validation top-1 error; returns what to do (the rate is then {@link #learningRate()}). */
  public Decision afterValidation(double error) {
    if (Double.isNaN(error)) {
      return Decision.KEEP;
    }
    boolean improved = Double.isNaN(state.bestError()) || error < state.bestError() * (1 - settings.threshold());
    double best = Double.isNaN(state.bestError()) ? error : Math.min(error, state.bestError());
    int since = improved ? 0 : state.sinceBest() + 1;
    state = new State(state.learningRate(), best, since, state.reductions());
    if (settings.kind() != Rule.PLATEAU) {
      return Decision.KEEP;
    }
    if (error == 0) {
      return Decision.STOP_CONVERGED;
    }
    if (since < settings.patience()) {
      return Decision.KEEP;
    }
    if (state.reductions() >= settings.maxReductions()) {
      return Decision.STOP_PLATEAU;
    }
    state = new State(state.learningRate() / 10, best, 0, state.reductions() + 1);
    return Decision.REDUCE;
  }
}
