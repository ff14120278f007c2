package org.alexkafka.trainer.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.alexkafka.trainer.engine.dl4j.Dl4jEngine;
import org.alexkafka.trainer.engine.torch.TorchEngine;
import org.alexkafka.trainer.model.AlexNetSpec;
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
 * from different generators. float32 rounding can put the two engines on different sides of a
 * ReLU or max-pooling kink, which no tolerance absorbs; the gradient's batch is screened for ReLU
 * ties, and the steps' batches are chosen free of them (see {@link #paperTwoTowers}).
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
   * The paper's two-tower net, on batches chosen to be free of ReLU ties. The 0.76% difference this
   * test once showed in conv1..conv3 (batch seed 11; conv4 and above agreeing to 1e-6) is no bug in
   * either engine: one conv3 pre-activation (image 1, map 267 = conv3b's 75, row 1, column 6) is
   * +2.5e-7 in libtorch and -1.5e-7 in DL4J, a sum of 2,304 terms whose magnitudes add up to 23:
   * zero within float32 rounding. The engines take different sides of the ReLU's kink, so libtorch
   * passes that element's gradient on and DL4J does not: 1.3% of conv3b's weight gradient, and
   * through pool2 all of conv1 and conv2. With libtorch's mask at that one element, DL4J's own
   * activations and epsilons give libtorch's conv3 gradient to 7e-7; DL4J's convolutions at these
   * shapes (3x3 192->192 and 256->192 on 13x13, weights and input gradient) and the MergeVertex
   * feeding both conv3 halves match a float64 reference to 6e-7. The zero-bias layers conv1 and
   * conv3 have 710,000 pre-activations per pair of images, and about one random batch in four puts
   * one of them within rounding of the kink: errors of 1e-3..1e-2 at and below one layer, in one
   * batch, are such a tie, not a wrong op. So the gradient's batch is screened ({@link #tieFree}):
   * seed 11 is skipped here for its conv3 tie, and 12 is used, on whatever CPU or native build the
   * test runs. The steps' batches (13..15) cannot be screened that way: after a step the two nets'
   * weights differ by float32 rounding, and their ReLUs then disagree on a few near-zero units in
   * most batches, mostly without consequence; these seeds were checked on the AVX-512 and the AVX2
   * build, and a tie there would show as an error of 1e-3 or more in the weights after 3 steps.
   */
  @Test
  void paperTwoTowers() {
    agree("paper, two towers", AlexNetSpec.paperTwoTowers(), 2, 0.001, 11, 13);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("profiles")
  void sameLossGradientsAndStepsFromTheSameStart(String name, AlexNetSpec paperSpec, int batchSize, double learningRate) {
    agree(name, paperSpec, batchSize, learningRate, 11, 100);
  }

  /** The gradient on the first tie-free batch from seed {@code gradientSeed} on, then 3 steps on batches {@code stepSeed}, +1, +2. */
  private void agree(String name, AlexNetSpec paperSpec, int batchSize, double learningRate, long gradientSeed, long stepSeed) {
    AlexNetSpec spec = paperSpec.withDropout(0);
    Tensors start = ParameterInit.of(spec);
    try (Engine dl4j = new Dl4jEngine(spec, 1); Engine torch = new TorchEngine(spec, "cpu")) {
      dl4j.load(start, null);
      torch.load(start, null);
      assertThat(dl4j.parameters().maxRelativeError(start, 1e-30)).isZero();
      assertThat(torch.parameters().maxRelativeError(start, 1e-30)).isZero();

      Batch batch = tieFree(name + " gradient", dl4j, torch, spec, batchSize, gradientSeed);
      Engine.Gradient gd = dl4j.gradient(batch, 1);
      Engine.Gradient gt = torch.gradient(batch, 1);
      log.info("{}: loss dl4j {} torch {}", name, gd.loss(), gt.loss());
      assertThat(Math.abs(gd.loss() - gt.loss()) / Math.abs(gt.loss())).as("loss").isLessThan(TOLERANCE);
      assertAgree(name + " gradients", gd.gradients().normRelativeErrors(gt.gradients()));

      assertThat(predictionsDiffer(dl4j.predict(batch), torch.predict(batch))).as("softmax outputs").isLessThan(TOLERANCE);

      dl4j.setLearningRate(learningRate);
      torch.setLearningRate(learningRate);
      for (int step = 0; step < 3; step++) {
        Batch b = batch(spec, batchSize, stepSeed + step);
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

  /** Ties: at most this many units on which the engines' ReLUs disagree; more is no tie but a discrepancy. */
  private static final int MAX_TIES = 4;
  /** Seeds tried before giving up (about 1 random paper batch in 4 has a tie). */
  private static final int TRIES = 10;

  /**
   * The first batch from seed {@code seed} on on which both engines, holding the same weights,
   * zero the same ReLU units in every layer. A batch with a few disagreeing units has a
   * pre-activation at zero within float32 rounding: skipped, and logged. A batch with more fails
   * the test, as does finding no tie-free batch in {@value #TRIES} seeds.
   */
  static Batch tieFree(String what, Engine dl4j, Engine torch, AlexNetSpec spec, int n, long seed) {
    for (long s = seed; s < seed + TRIES; s++) {
      Batch b = batch(spec, n, s);
      Map<String, float[]> d = dl4j.reluOutputs(b);
      Map<String, float[]> t = torch.reluOutputs(b);
      int ties = 0;
      StringBuilder where = new StringBuilder();
      for (String layer : Engine.RELU_LAYERS) {
        float[] a = d.get(layer);
        float[] c = t.get(layer);
        assertThat(a).as(layer + " output size").hasSameSizeAs(c);
        int differ = 0;
        for (int i = 0; i < a.length; i++) {
          if ((a[i] > 0) != (c[i] > 0)) {
            differ++;
          }
        }
        if (differ > 0) {
          where.append(' ').append(layer).append(':').append(differ);
        }
        ties += differ;
      }
      assertThat(ties).as("%s, batch seed %d: units on which the engines' ReLUs disagree (%s)", what, s, where)
          .isLessThanOrEqualTo(MAX_TIES);
      if (ties == 0) {
        return b;
      }
      log.info("{}: batch seed {} skipped, a ReLU tie within float32 rounding ({} unit(s):{})", what, s, ties, where);
    }
    throw new AssertionError(what + ": no batch free of ReLU ties in seeds " + seed + ".." + (seed + TRIES - 1));
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
