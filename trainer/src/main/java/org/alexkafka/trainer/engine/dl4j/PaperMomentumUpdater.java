package org.alexkafka.trainer.engine.dl4j;

import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;

/** The state and the step of {@link PaperMomentum}: one velocity per parameter. */
public final class PaperMomentumUpdater implements GradientUpdater<PaperMomentum> {

  public static final String VELOCITY = "V";

  private final PaperMomentum config;
  private INDArray velocity;

  public PaperMomentumUpdater(PaperMomentum config) {
    this.config = config;
  }

  @Override
  public PaperMomentum getConfig() {
    return config;
  }

  @Override
  public void setState(Map<String, INDArray> state, boolean initialize) {
    if (state == null || state.size() != 1 || !state.containsKey(VELOCITY)) {
      throw new IllegalStateException("PaperMomentum state must be exactly {" + VELOCITY + "}, got "
          + (state == null ? null : state.keySet()));
    }
    velocity = state.get(VELOCITY);
    if (initialize) {
      velocity.assign(0);
    }
  }

  @Override
  public Map<String, INDArray> getState() {
    return Map.of(VELOCITY, velocity);
  }

  @Override
  public void setStateViewArray(INDArray viewArray, long[] gradientShape, char gradientOrder, boolean initialize) {
    if (!viewArray.isRowVectorOrScalar()) {
      throw new IllegalArgumentException("state view must be a row vector, got shape " + java.util.Arrays.toString(viewArray.shape()));
    }
    if (initialize) {
      viewArray.assign(0);
    }
    velocity = viewArray.reshape(gradientOrder, gradientShape);
  }

  /**
   * In: {@code gradient} = ∂L/∂w (+ 0.0005·w for weights, added by DL4J's l2). Out, in place: −v,
   * which DL4J subtracts from w, giving w ← w + v.
   */
  @Override
  public void applyUpdater(INDArray gradient, int iteration, int epoch) {
    if (velocity == null) {
      throw new IllegalStateException("updater state not set");
    }
    double lr = config.getLearningRate(iteration, epoch);
    // three whole-array ops per parameter block (16 blocks in AlexNet: weights and biases of 8 layers), not five:
    // on the small profile each op is mostly fixed cost
    velocity.muli(config.getMomentum());                                                      // v ← μ·v
    Nd4j.getBlasWrapper().level1().axpy(velocity.length(), -lr, gradient, velocity);         //     − ε·g
    velocity.mul(-1, gradient);
  }
}
