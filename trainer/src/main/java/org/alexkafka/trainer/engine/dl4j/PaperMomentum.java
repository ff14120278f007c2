package org.alexkafka.trainer.engine.dl4j;

import java.util.Map;
import java.util.Objects;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.schedule.ISchedule;

/**
 * The update rule of Krizhevsky et al. (2012), section 5, as a DL4J updater configuration:
 *
 * <pre>  v ← 0.9·v − 0.0005·ε·w − ε·∂L/∂w ;  w ← w + v  </pre>
 *
 * Classic momentum (not DL4J's Nesterovs). The weight-decay term comes from DL4J's L2
 * regularisation, which adds 0.0005·w to the gradient of weights (not biases) BEFORE the updater
 * runs, so the updater sees g = ∂L/∂w + 0.0005·w and computes v ← μ·v − ε·g. DL4J then SUBTRACTS
 * the updater's output from the parameters, so the updater returns −v. The learning rate can be
 * changed during training with {@code graph.setLearningRate(lr)}: it is read at every step.
 */
public final class PaperMomentum implements IUpdater {

  private double learningRate;
  private double momentum;

  /** For DL4J's JSON (de)serialisation of network configurations. */
  public PaperMomentum() {
    this(0.01, 0.9);
  }

  public PaperMomentum(double learningRate, double momentum) {
    this.learningRate = learningRate;
    this.momentum = momentum;
  }

  public double getLearningRate() {
    return learningRate;
  }

  public void setLearningRate(double learningRate) {
    this.learningRate = learningRate;
  }

  public double getMomentum() {
    return momentum;
  }

  public void setMomentum(double momentum) {
    this.momentum = momentum;
  }

  @Override
  public long stateSize(long numParams) {
    return numParams;
  }

  @Override
  public GradientUpdater instantiate(INDArray viewArray, boolean initializeViewArray) {
    PaperMomentumUpdater updater = new PaperMomentumUpdater(this);
    updater.setStateViewArray(viewArray, viewArray.shape(), viewArray.ordering(), initializeViewArray);
    return updater;
  }

  @Override
  public GradientUpdater instantiate(Map<String, INDArray> state, boolean initializeStateArrays) {
    PaperMomentumUpdater updater = new PaperMomentumUpdater(this);
    updater.setState(state, initializeStateArrays);
    return updater;
  }

  @Override
  public double getLearningRate(int iteration, int epoch) {
    return learningRate;
  }

  @Override
  public boolean hasLearningRate() {
    return true;
  }

  @Override
  public void setLrAndSchedule(double lr, ISchedule lrSchedule) {
    if (lrSchedule != null) {
      throw new UnsupportedOperationException(
          "PaperMomentum takes a fixed learning rate; the trainer's LrSchedule changes it between steps");
    }
    this.learningRate = lr;
  }

  @Override
  public PaperMomentum clone() {
    return new PaperMomentum(learningRate, momentum);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PaperMomentum p && p.learningRate == learningRate && p.momentum == momentum;
  }

  @Override
  public int hashCode() {
    return Objects.hash(learningRate, momentum);
  }

  @Override
  public String toString() {
    return "PaperMomentum(lr=" + learningRate + ", momentum=" + momentum + ")";
  }
}
