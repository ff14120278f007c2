package org.alexkafka.trainer.engine;

import org.alexkafka.trainer.distributed.ProcessGroup;
import org.alexkafka.trainer.distributed.World;
import org.alexkafka.trainer.model.AlexNetSpec;

/**
 * What the trainer needs from a deep-learning library: one AlexNet ({@link AlexNetSpec}) trained
 * with the paper's momentum SGD. Implementations: {@code engine.dl4j} (DL4J/ND4J, CPU) and {@code
 * engine.torch} (libtorch through JavaCPP, CPU and CUDA). Both must give the same numbers to 1e-4
 * from the same parameters and batch (the engines' equality test).
 *
 * <p>The paper's update, per parameter w with gradient g = ∂L/∂w of the batch's mean cross-entropy:
 * v ← μ·v − λ·ε·w − ε·g (λ = 0.0005 on weights only, μ = 0.9), then w ← w + v. Dropout (train mode
 * only) is inverted: kept units are scaled by 1/(1 − p), so evaluation runs the plain network.
 */
public interface Engine extends AutoCloseable {

  /** The batch's mean cross-entropy and its gradient with respect to every parameter (weight decay not included). */
  record Gradient(double loss, Tensors gradients) {
  }

  /** "dl4j" or "torch". */
  String name();

  /** Where it computes: "cpu" or "cuda:0". */
  String device();

  AlexNetSpec spec();

  /**
   * Whether batches should come as 8-bit crops ({@link Batch#pixels()}), converted to the float
   * input by the engine where it computes: on a GPU that takes the conversion off the host's cores
   * and quarters the copy to the device. Either form is accepted whatever this says.
   */
  default boolean convertsPixels() {
    return false;
  }

  long parameterCount();

  void setLearningRate(double learningRate);

  /** One step of the paper's update on {@code batch}, in train mode (dropout masks drawn from {@code stepSeed}); returns the mean cross-entropy. */
  double trainStep(Batch batch, long stepSeed);

  /** The loss and gradients of {@code batch} in train mode, without updating anything (the equality test). */
  Gradient gradient(Batch batch, long stepSeed);

  /** Softmax outputs in eval mode (no dropout): {@code batch.size() × classes} values, row-major. */
  float[] predict(Batch batch);

  /**
   * Data parallelism, the way DDP does it: adds {@code weight} × ∂(mean cross-entropy of {@code
   * batch})/∂w to the engine's gradient sums, in train mode (dropout masks drawn from {@code
   * stepSeed}), without updating anything; returns the batch's mean cross-entropy. The loop calls it
   * once per slice of the global batch this process holds, with weight = the slice's size.
   */
  default double accumulateGradient(Batch batch, long stepSeed, double weight) {
    throw new UnsupportedOperationException(notDataParallel());
  }

  /**
   * Sums the gradient sums over {@code group} (c10d all-reduce; a rank without samples adds
   * zeros), takes the paper's step with gradient = sum × {@code scale} (1 / the global batch's
   * size), and clears the sums. Every rank calls it at the same step.
   */
  default void stepAccumulated(ProcessGroup group, double scale) {
    throw new UnsupportedOperationException(notDataParallel());
  }

  /** Replaces parameters and momentum by rank 0's, on every rank of {@code group}. */
  default void synchronize(ProcessGroup group) {
    if (group.size() > 1) {
      throw new UnsupportedOperationException(notDataParallel());
    }
  }

  /** Joins the data-parallel group of {@code world} in the way this engine's collectives need. */
  default ProcessGroup joinGroup(World world) {
    if (!world.distributed()) {
      return ProcessGroup.solo();
    }
    throw new UnsupportedOperationException(notDataParallel());
  }

  private String notDataParallel() {
    return "the " + name() + " engine trains in one process (its --devices workers share one JVM); data parallelism over "
        + "processes (ranks, --shards) needs --engine torch";
  }

  /** The layers whose output goes through a ReLU, in order: in what {@link #kinkInputs} gives. */
  java.util.List<String> RELU_LAYERS = java.util.List.of("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7");

  /** The layers whose output a 3x3/2 max pooling reads (pool1, pool2, pool5): in what {@link #kinkInputs} gives. */
  java.util.List<String> POOLED_LAYERS = java.util.List.of("lrn1", "lrn2", "conv5");

  /**
   * For checks: the output of each ReLU layer ({@link #RELU_LAYERS}, after the ReLU) and of each
   * layer a max pooling reads ({@link #POOLED_LAYERS}) on {@code batch} in eval mode, row-major
   * (NCHW for the convolutions; a two-tower layer's halves side by side along the channels, as one
   * grouped layer gives them). Two engines with the same weights must agree on which units are
   * zero and on which unit of each pooling window is the largest; but where a pre-activation is
   * zero, or two units of a window are equal, within float32 rounding, they can take opposite sides
   * of the kink: the equality test screens its batches for such ties with it.
   */
  default java.util.Map<String, float[]> kinkInputs(Batch batch) {
    throw new UnsupportedOperationException("the " + name() + " engine does not show its layers' outputs");
  }

  /** A copy of the parameters, in {@link ParameterLayout}. */
  Tensors parameters();

  /** A copy of the momentum buffers v, in {@link ParameterLayout}. */
  Tensors momentum();

  /** Replaces parameters and momentum (fresh zeros when {@code momentum} is null). */
  void load(Tensors parameters, Tensors momentum);

  @Override
  void close();
}
