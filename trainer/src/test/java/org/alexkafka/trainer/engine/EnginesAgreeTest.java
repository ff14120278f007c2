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
 * same loss, the same gradient of every tensor and the same weights and momentum after each of 3
 * momentum steps, to a relative error (in the 2-norm of each tensor) below 1e-4 in float32. This is the independent
 * check of DL4J's arithmetic (and of libtorch's wiring): LRN, grouped towers, flattening into fc6,
 * weight decay on weights only, the paper's momentum. Dropout is off: the engines draw their masks
 * from different generators. float32 rounding can put the two engines on different sides of a
 * ReLU or max-pooling kink, which no tolerance absorbs: every batch is screened for such ties
 * ({@link #tieFree}), and each step starts both engines from the same state (libtorch's, loaded
 * exactly into DL4J), as the rounding left by a step puts a few near-zero units on different sides
 * of a kink in most batches. Which batches have a tie depends on the CPU and the native build: on
 * a 2-core AVX2 EPYC, small two towers' seed 11 has a pool5 tie and the paper net's step batches
 * 100, 102-104 and 106 have one.
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
   * The paper's two-tower net, on batches free of ReLU and max-pooling ties. The 0.76% difference this
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
   * batch, are such a tie, not a wrong op. Max pooling has the same kink where two units of a window
   * are equal within rounding (all of conv5's weight gradient and none of its bias's then differs).
   * So every batch is screened ({@link #tieFree}), on whatever CPU or native build the test runs:
   * on the AVX-512 machine seed 11 is skipped for its conv3 tie; on a 2-core AVX2 EPYC it has none.
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

      long gradientBatch = tieFree(name + " gradient", dl4j, torch, spec, batchSize, gradientSeed);
      Batch batch = batch(spec, batchSize, gradientBatch);
      Engine.Gradient gd = dl4j.gradient(batch, 1);
      Engine.Gradient gt = torch.gradient(batch, 1);
      log.info("{}: loss dl4j {} torch {}", name, gd.loss(), gt.loss());
      assertThat(Math.abs(gd.loss() - gt.loss()) / Math.abs(gt.loss())).as("loss").isLessThan(TOLERANCE);
      assertAgree(name + " gradients", gd.gradients().normRelativeErrors(gt.gradients()));

      assertThat(predictionsDiffer(dl4j.predict(batch), torch.predict(batch))).as("softmax outputs").isLessThan(TOLERANCE);

      dl4j.setLearningRate(learningRate);
      torch.setLearningRate(learningRate);
      long seed = stepSeed;
      for (int step = 0; step < 3; step++) {
        if (step > 0) {
          // each step from one state: after a step the nets differ by float32 rounding, which puts
          // near-zero units on different sides of a kink in most batches; the loads are exact
          dl4j.load(torch.parameters(), torch.momentum());
        }
        Tensors before = torch.parameters();
        seed = tieFree(name + " step " + step, dl4j, torch, spec, batchSize, seed);
        Batch b = batch(spec, batchSize, seed++);
        double ld = dl4j.trainStep(b, step);
        double lt = torch.trainStep(b, step);
        log.info("{}: step {} loss dl4j {} torch {}", name, step, ld, lt);
        assertThat(Math.abs(ld - lt) / Math.abs(lt)).as("loss of step %d", step).isLessThan(TOLERANCE);
        Tensors pd = dl4j.parameters();
        Tensors pt = torch.parameters();
        assertAgree(name + " weights after step " + step, pd.normRelativeErrors(pt));
        // the weights barely move in a step: the step itself must agree too
        assertAgree(name + " change in step " + step, pd.minus(before).normRelativeErrors(pt.minus(before)), 1e-3);
        assertAgree(name + " momentum after step " + step, dl4j.momentum().normRelativeErrors(torch.momentum()), 1e-3);
      }
    }
  }

  /** Ties: at most this many units on which the engines' ReLUs disagree; more is no tie but a discrepancy. */
  private static final int MAX_TIES = 4;
  /** Seeds tried before giving up (about 1 random paper batch in 4 has a tie). */
  private static final int TRIES = 10;

  /**
   * The first batch seed from {@code seed} on whose batch both engines, holding the same weights,
   * zero the same ReLU units in every layer and pick the same unit in every max-pooling window. A
   * batch with a few disagreements has a pre-activation at zero, or two units of a window equal,
   * within float32 rounding: skipped, and logged. A batch with more fails the test, as does finding
   * no tie-free batch in {@value #TRIES} seeds.
   */
  static long tieFree(String what, Engine dl4j, Engine torch, AlexNetSpec spec, int n, long seed) {
    Map<String, Integer> pooledChannels = Map.of("lrn1", spec.conv1(), "lrn2", spec.conv2(), "conv5", spec.conv5());
    for (long s = seed; s < seed + TRIES; s++) {
      Batch b = batch(spec, n, s);
      Map<String, float[]> d = dl4j.kinkInputs(b);
      Map<String, float[]> t = torch.kinkInputs(b);
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
      for (String layer : Engine.POOLED_LAYERS) {
        float[] a = d.get(layer);
        float[] c = t.get(layer);
        assertThat(a).as(layer + " output size").hasSameSizeAs(c);
        int differ = poolingChoicesDiffer(a, c, n * pooledChannels.get(layer));
        if (differ > 0) {
          where.append(" pool after ").append(layer).append(':').append(differ);
        }
        ties += differ;
      }
      assertThat(ties).as("%s, batch seed %d: units on which the engines' ReLUs or max poolings disagree (%s)", what, s, where)
          .isLessThanOrEqualTo(MAX_TIES);
      if (ties == 0) {
        return s;
      }
      log.info("{}: batch seed {} skipped, a tie within float32 rounding ({} unit(s):{})", what, s, ties, where);
    }
    throw new AssertionError(what + ": no batch free of ReLU and max-pooling ties in seeds " + seed + ".." + (seed + TRIES - 1));
  }

  /**
   * Windows of the networks' 3x3, stride 2 max pooling (no padding) whose largest unit is not the
   * same one in {@code a} and {@code b}: {@code planes} square maps, row-major.
   */
  static int poolingChoicesDiffer(float[] a, float[] b, int planes) {
    int side = (int) Math.round(Math.sqrt(a.length / (double) planes));
    assertThat((long) planes * side * side).as("square maps").isEqualTo(a.length);
    int out = (side - 3) / 2 + 1;
    int differ = 0;
    for (int p = 0; p < planes; p++) {
      int plane = p * side * side;
      for (int y = 0; y < out; y++) {
        for (int x = 0; x < out; x++) {
          if (windowArgMax(a, plane, side, y * 2, x * 2) != windowArgMax(b, plane, side, y * 2, x * 2)) {
            differ++;
          }
        }
      }
    }
    return differ;
  }

  private static int windowArgMax(float[] v, int plane, int side, int top, int left) {
    int best = plane + top * side + left;
    for (int dy = 0; dy < 3; dy++) {
      for (int dx = 0; dx < 3; dx++) {
        int i = plane + (top + dy) * side + left + dx;
        if (v[i] > v[best]) {
          best = i;
        }
      }
    }
    return best;
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
