package org.alexkafka.trainer.engine.dl4j;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.regularization.L2Regularization;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.linalg.schedule.FixedSchedule;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * The paper's weight decay: {@code 0.0005 * w} added to each weight's gradient before the momentum
 * update, exactly DL4J's {@link L2Regularization}, but left out of the score. The trainer reports
 * the data loss (cross-entropy), as PyTorch's {@code weight_decay} does. DL4J adds
 * {@code 0.5 * lambda * sum w^2} to the score of every training step, one norm reduction per
 * weight array, each waited for (8 in AlexNet, about 1 ms per step of the small profile on 2
 * cores), and the trainer took it off again, at the same cost.
 */
public final class PaperWeightDecay extends L2Regularization {

  public PaperWeightDecay(double lambda) {
    this(new FixedSchedule(lambda));
  }

  @JsonCreator
  public PaperWeightDecay(@JsonProperty("l2") ISchedule lambda) {
    super(lambda);
  }

  /** Nothing: the decay term is not part of the reported loss. */
  @Override
  public double score(INDArray param, int iteration, int epoch) {
    return 0;
  }

  @Override
  public Regularization clone() {
    return new PaperWeightDecay(l2.clone());
  }

  @Override
  public String toString() {
    return "PaperWeightDecay(l2=" + l2 + ")";
  }
}
