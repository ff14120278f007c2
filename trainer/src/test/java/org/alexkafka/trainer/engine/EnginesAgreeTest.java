package org.alexkafka.trainer.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.alexkafka.trainer.engine.dl4j.Dl4jEngine;
import org.alexkafka.trainer.engine.torch.TorchEngine;
import org.alexkafka.trainer.model.AlexNetSpec;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The two engines, each checked against the other: the same parameters and the same batch give the
 * same loss, the same gradient of every tensor and the same weights after 3 momentum steps, to a
 * relative error (in the 2-norm of each tensor) below 1e-4 in float32. This is the independent
 * check of DL4J's arithmetic (and of libtorch's wiring): LRN, grouped towers, flattening into fc6,
 * weight decay on weights only, the paper's momentum. Dropout is off: the engines draw their masks
 * from different generators.
 */
class EnginesAgreeTest {

  private static final Logger log = LoggerFactory.getLogger(EnginesAgreeTest.class);
  private static final double TOLERANCE = 1e-4;

  static Stream<Arguments> profiles() {
    return Stream.of(
        Arguments.of("small, one tower", AlexNetSpec.small(10, 64), 16, 0.01),
        Arguments.of("small, two towers", AlexNetSpec.small(10, 64).withTowers(2), 16, 0.01),
        // at ε 0.01 one step on 2 noise images blows the paper net's logits up past DL4J's clipping of p at 1e-10
        Arguments.of("paper, one tower", AlexNetSpec.paper(), 2, 0.001));
  }

  /**
   * Fails today, by DL4J: in the paper's two-tower net its gradients of conv1..conv3 are 0.76% off
   * (conv4 and above agree to 2e-6), with or without this project's layer helpers, libnd4j's
   * oneDNN helpers or workspaces, while libtorch and Python's PyTorch 1.13 agree with each other to
   * 2e-6. It shows with 192-map towers on 13x13 maps (not with 48-map towers, nor on 3x3 maps); one
   * convolution of that shape alone is exact, so it is in how the graph backpropagates the towers.
   */
  @Disabled("DL4J M2.1's two-tower paper net: conv1..conv3 gradients 0.76% off libtorch and PyTorch; use --engine torch for --towers 2")
  @Test
  void paperTwoTowers() {
    sameLossGradientsAndStepsFromTheSameStart("paper, two towers", AlexNetSpec.paperTwoTowers(), 2, 0.001);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("profiles")
  void sameLossGradientsAndStepsFromTheSameStart(String name, AlexNetSpec paperSpec, int batchSize, double learningRate) {
    AlexNetSpec spec = paperSpec.withDropout(0);
    Tensors start = ParameterInit.of(spec);
    try (Engine dl4j = new Dl4jEngine(spec, 1); Engine torch = new TorchEngine(spec, "cpu")) {
      dl4j.load(start, null);
      torch.load(start, null);
      assertThat(dl4j.parameters().maxRelativeError(start, 1e-30)).isZero();
      assertThat(torch.parameters().maxRelativeError(start, 1e-30)).isZero();

      Batch batch = batch(spec, batchSize, 11);
      Engine.Gradient gd = dl4j.gradient(batch, 1);
      Engine.Gradient gt = torch.gradient(batch, 1);
      log.info("{}: loss dl4j {} torch {}", name, gd.loss(), gt.loss());
      assertThat(Math.abs(gd.loss() - gt.loss()) / Math.abs(gt.loss())).as("loss").isLessThan(TOLERANCE);
      assertAgree(name + " gradients", gd.gradients().normRelativeErrors(gt.gradients()));

      assertThat(predictionsDiffer(dl4j.predict(batch), torch.predict(batch))).as("softmax outputs").isLessThan(TOLERANCE);

      dl4j.setLearningRate(learningRate);
      torch.setLearningRate(learningRate);
      for (int step = 0; step < 3; step++) {
        Batch b = batch(spec, batchSize, 100 + step);
        double ld = dl4j.trainStep(b, step);
        double lt = torch.trainStep(b, step);
        log.info("{}: step {} loss dl4j {} torch {}", name, step, ld, lt);
        assertThat(Math.abs(ld - lt) / Math.abs(lt)).as("loss of step %d", step).isLessThan(TOLERANCE);
      }
      Tensors pd = dl4j.parameters();
      Tensors pt = torch.parameters();
      assertAgree(name + " weights after 3 steps", pd.normRelativeErrors(pt));
      // the weights barely move in 3 steps: the steps themselves must agree too
      assertAgree(name + " change over 3 steps", pd.minus(start).normRelativeErrors(pt.minus(start)), 1e-3);
      assertAgree(name + " momentum after 3 steps", dl4j.momentum().normRelativeErrors(torch.momentum()), 1e-3);
    }
  }

  private static void assertAgree(String what, Map<String, Double> errors) {
    assertAgree(what, errors, TOLERANCE);
  }

  private static void assertAgree(String what, Map<String, Double> errors, double tolerance) {
    double worst = errors.values().stream().mapToDouble(Double::doubleValue).max().orElseThrow();
    log.info("{}: largest relative error {} ({})", what, worst, errors);
    assertThat(errors).as(what).allSatisfy((tensor, error) -> assertThat(error).as(tensor).isLessThan(tolerance));
  }

  private static double predictionsDiffer(float[] a, float[] b) {
    double worst = 0;
    for (int i = 0; i < a.length; i++) {
      worst = Math.max(worst, Math.abs(a[i] - b[i]));
    }
    return worst;
  }

  /** Features on the scale the trainer feeds (pixel minus mean: tens), random labels. */
  static Batch batch(AlexNetSpec spec, int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    int side = spec.inputSize();
    float[] x = new float[n * 3 * side * side];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) ((r.nextDouble() - 0.5) * 100);
    }
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) {
      labels[i] = r.nextInt(spec.classes());
    }
    return new Batch(n, 3, side, side, x, labels);
  }
}
