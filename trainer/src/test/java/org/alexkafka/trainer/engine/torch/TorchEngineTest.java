package org.alexkafka.trainer.engine.torch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.alexkafka.trainer.engine.Batch;
import org.alexkafka.trainer.engine.Engine;
import org.alexkafka.trainer.engine.InputMean;
import org.alexkafka.trainer.engine.PixelCrops;
import org.alexkafka.trainer.engine.ParameterInit;
import org.alexkafka.trainer.engine.ParameterLayout;
import org.alexkafka.trainer.engine.Tensor;
import org.alexkafka.trainer.engine.Tensors;
import org.alexkafka.trainer.model.AlexNetSpec;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The torch engine at the small profile (and one step of the paper's), against hand-computed numbers. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TorchEngineTest {

  private static final AlexNetSpec SMALL = AlexNetSpec.small(10, 64);
  private static final AlexNetSpec SMALL_NO_DROPOUT = SMALL.withDropout(0);

  /** ND4J first, then libtorch, then ND4J again: both native stacks in one JVM (the trainer's case). */
  @Test
  @Order(1)
  void loadsSideBySideWithNd4j() {
    INDArray a = Nd4j.create(new float[] {1, 2, 3, 4}, new long[] {2, 2}, 'c');
    assertThat(a.mmul(a).getFloat(1, 1)).isEqualTo(22f);
    try (TorchEngine engine = new TorchEngine(SMALL, "cpu")) {
      double loss = engine.trainStep(batch(SMALL, 4, 1, 1), 1);
      assertThat(loss).isFinite();
    }
    assertThat(a.mmul(a).sumNumber().floatValue()).isEqualTo(7 + 10 + 15 + 22f);
  }

  /**
   * The native-loading snag: from an EMPTY JavaCPP cache, libtorch.so must bind to the presets'
   * libtorch_cpu.so, not to the system's (Debian's python3-torch); in a fresh JVM, as the first run
   * on a machine would be.
   */
  @Test
  @Order(2)
  void loadsFromAnEmptyCache(@TempDir Path cache) throws Exception {
    String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process child = new ProcessBuilder(javaBin, "-cp", System.getProperty("java.class.path"),
        "-Dorg.bytedeco.javacpp.cachedir=" + cache, NativesProbe.class.getName())
        .redirectErrorStream(true).start();
    String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(child.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(child.exitValue()).as(out).isZero();
    assertThat(out).contains("sum 4.0");
    List<String> mapped = out.lines().filter(l -> l.startsWith("mapped ")).toList();
    assertThat(mapped).as(out).isNotEmpty().allSatisfy(l -> assertThat(l).contains(cache.toString()));
  }

  /** Run in a child JVM by {@link #loadsFromAnEmptyCache}: loads libtorch and prints where libtorch_cpu/libc10 came from. */
  public static final class NativesProbe {
    public static void main(String[] args) throws IOException {
      TorchNatives.load();
      for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
        if (line.contains("libtorch_cpu") || line.contains("libc10")) {
          System.out.println("mapped " + line.substring(line.lastIndexOf(' ') + 1));
        }
      }
      try (PointerScope scope = new PointerScope()) {
        System.out.println("sum " + org.bytedeco.pytorch.global.torch.ones(2, 2).sum().item_float());
      }
    }
  }

  @Test
  @Order(3)
  void constructionGivesTheLayoutsInitAndLoadRoundTrips() {
    for (AlexNetSpec spec : List.of(SMALL, SMALL.withTowers(2))) {
      try (TorchEngine engine = new TorchEngine(spec, "cpu")) {
        assertThat(engine.name()).isEqualTo("torch");
        assertThat(engine.device()).isEqualTo("cpu");
        assertThat(engine.spec()).isEqualTo(spec);
        assertThat(engine.parameterCount()).isEqualTo(ParameterLayout.of(spec).stream().mapToLong(ParameterLayout.Entry::size).sum());

        assertExactlyEqual(engine.parameters(), ParameterInit.of(spec));
        assertExactlyEqual(engine.momentum(), Tensors.zeros(spec));

        Tensors p = random(spec, 11, 0.05f);
        Tensors v = random(spec, 12, 0.001f);
        engine.load(p, v);
        assertExactlyEqual(engine.parameters(), p);
        assertExactlyEqual(engine.momentum(), v);

        engine.load(ParameterInit.of(spec), null);
        assertExactlyEqual(engine.parameters(), ParameterInit.of(spec));
        assertExactlyEqual(engine.momentum(), Tensors.zeros(spec));

        assertThatThrownBy(() -> engine.load(ParameterInit.of(spec.withClasses(7)), null))
            .isInstanceOf(IllegalArgumentException.class);
      }
    }
  }

  @Test
  @Order(4)
  void stepIsThePapersMomentumUpdate() {
    for (AlexNetSpec spec : List.of(SMALL_NO_DROPOUT, SMALL_NO_DROPOUT.withTowers(2))) {
      try (TorchEngine engine = new TorchEngine(spec, "cpu")) {
        double lr = 0.05;
        engine.setLearningRate(lr);
        Tensors w = ParameterInit.of(spec);
        Tensors v = random(spec, 5, 0.001f);
        engine.load(w, v);
        Batch batch = batch(spec, 8, 3, 1);

        Engine.Gradient g = engine.gradient(batch, 9);
        assertExactlyEqual(engine.parameters(), w); // gradient() updates nothing
        assertExactlyEqual(engine.momentum(), v);
        assertThat(g.loss()).isFinite();
        assertThat(g.gradients().byName().keySet()).containsExactlyElementsOf(w.byName().keySet());

        Map<String, Tensor> wantW = new LinkedHashMap<>();
        Map<String, Tensor> wantV = new LinkedHashMap<>();
        Map<String, float[]> scaleW = new LinkedHashMap<>();
        Map<String, float[]> scaleV = new LinkedHashMap<>();
        for (ParameterLayout.Entry e : ParameterLayout.of(spec)) {
          float[] w0 = w.get(e.name()).data();
          float[] v0 = v.get(e.name()).data();
          float[] g0 = g.gradients().get(e.name()).data();
          float[] w1 = new float[w0.length];
          float[] v1 = new float[w0.length];
          float[] wScale = new float[w0.length];
          float[] vScale = new float[w0.length];
          for (int i = 0; i < w0.length; i++) {
            double decay = e.weight() ? 0.0005 * lr * w0[i] : 0;
            v1[i] = (float) (0.9 * v0[i] - decay - lr * g0[i]);
            w1[i] = w0[i] + v1[i];
            // float32 rounds each term: the error is relative to the terms' magnitudes, not to their (cancelling) sum
            vScale[i] = (float) (Math.abs(0.9 * v0[i]) + Math.abs(decay) + Math.abs(lr * g0[i]));
            wScale[i] = Math.abs(w0[i]) + vScale[i];
          }
          wantW.put(e.name(), new Tensor(e.shape(), w1));
          wantV.put(e.name(), new Tensor(e.shape(), v1));
          scaleW.put(e.name(), wScale);
          scaleV.put(e.name(), vScale);
        }

        double loss = engine.trainStep(batch, 9);
        assertThat(loss).isCloseTo(g.loss(), within(1e-6));
        assertClose(engine.momentum(), new Tensors(wantV), scaleV, 1e-5);
        assertClose(engine.parameters(), new Tensors(wantW), scaleW, 1e-5);
        // and the rule is not trivially met: the step moved every tensor by more than the tolerance
        assertThat(engine.momentum().maxRelativeError(v, 1e-3)).isGreaterThan(1e-2);
      }
    }
  }

  @Test
  @Order(5)
  void gradientsMatchFiniteDifferences() {
    AlexNetSpec spec = SMALL_NO_DROPOUT;
    try (TorchEngine engine = new TorchEngine(spec, "cpu")) {
      Batch batch = batch(spec, 8, 21, 1);
      Tensors w = engine.parameters();
      Tensors g = engine.gradient(batch, 0).gradients();
      double eps = 1e-2;
      int checked = 0;
      for (String name : List.of("conv1.weight", "conv2.weight", "conv5.weight", "fc6.weight", "fc8.weight", "fc8.bias")) {
        float[] grad = g.get(name).data();
        for (int index : largest(grad, 2)) {
          double plus = lossWith(engine, w, name, index, eps, batch);
          double minus = lossWith(engine, w, name, index, -eps, batch);
          double numeric = (plus - minus) / (2 * eps);
          assertThat(numeric)
              .as("d loss / d %s[%d]: autograd %s, central difference %s", name, index, grad[index], numeric)
              .isCloseTo(grad[index], within(2e-2 * Math.abs(grad[index]) + 2e-5));
          checked++;
        }
      }
      assertThat(checked).isEqualTo(12);
      engine.load(w, null);
      assertExactlyEqual(engine.parameters(), w);
    }
  }

  @Test
  @Order(6)
  void lrnIsThePapersAndStaysWithinATower() {
    for (AlexNetSpec spec : List.of(SMALL, SMALL.withTowers(2))) {
      try (TorchEngine engine = new TorchEngine(spec, "cpu")) {
        Batch batch = batch(spec, 2, 31, 30); // pixel-like magnitudes: the LRN's sum matters
        float[][] out = engine.conv1AndLrn(batch);
        float[] reference = referenceLrn(out[0], 2, spec.conv1(), spec.towers(), spec.conv1Side());
        assertThat(new Tensor(new long[] {out[1].length}, out[1]).maxRelativeError(
            new Tensor(new long[] {reference.length}, reference), 1e-6)).isLessThan(1e-5);
        // the LRN is not a no-op at these magnitudes (a / k^beta alone differs by more than 1%)
        double worst = 0;
        for (int i = 0; i < out[0].length; i++) {
          worst = Math.max(worst, Math.abs(out[1][i] - out[0][i] / Math.pow(2, 0.75)) / (Math.abs(out[1][i]) + 1e-3));
        }
        assertThat(worst).isGreaterThan(1e-2);
      }
    }

    // Perturb conv1's first map of tower b: the last map of tower a must not notice in the two-tower net.
    for (int towers : new int[] {1, 2}) {
      AlexNetSpec spec = SMALL.withTowers(towers);
      try (TorchEngine engine = new TorchEngine(spec, "cpu")) {
        Batch batch = batch(spec, 2, 32, 30);
        int half = spec.conv1() / 2;
        int side = spec.conv1Side();
        float[] before = engine.conv1AndLrn(batch)[1];
        Tensors p = engine.parameters();
        Map<String, Tensor> changed = new LinkedHashMap<>(p.byName());
        float[] bias = p.get("conv1.bias").data().clone();
        bias[half] += 5f;
        changed.put("conv1.bias", new Tensor(new long[] {spec.conv1()}, bias));
        engine.load(new Tensors(changed), null);
        float[] after = engine.conv1AndLrn(batch)[1];
        double diffLastOfA = 0;
        double diffFirstOfB = 0;
        for (int n = 0; n < 2; n++) {
          for (int i = 0; i < side * side; i++) {
            int a = (n * spec.conv1() + half - 1) * side * side + i;
            int b = (n * spec.conv1() + half) * side * side + i;
            diffLastOfA = Math.max(diffLastOfA, Math.abs(after[a] - before[a]));
            diffFirstOfB = Math.max(diffFirstOfB, Math.abs(after[b] - before[b]));
          }
        }
        assertThat(diffFirstOfB).isGreaterThan(1e-2);
        if (towers == 2) {
          assertThat(diffLastOfA).as("tower a's last map sees tower b's first").isZero();
        } else {
          assertThat(diffLastOfA).as("neighbouring maps in one tower").isGreaterThan(1e-4);
        }
      }
    }
  }

  @Test
  @Order(7)
  void predictsProbabilitiesDeterministicallyAndTrainingLowersTheLoss() {
    try (TorchEngine engine = new TorchEngine(SMALL, "cpu")) {
      Batch batch = batch(SMALL, 8, 41, 1);
      float[] p = engine.predict(batch);
      assertThat(p).hasSize(8 * SMALL.classes());
      for (int n = 0; n < 8; n++) {
        double sum = 0;
        for (int c = 0; c < SMALL.classes(); c++) {
          float x = p[n * SMALL.classes() + c];
          assertThat(x).isBetween(0f, 1f);
          sum += x;
        }
        assertThat(sum).isCloseTo(1.0, within(1e-5));
      }
      assertSameValues("predict", engine.predict(batch), p); // eval mode: no dropout

      // Dropout masks: the same for the same step seed, others for another.
      Engine.Gradient a = engine.gradient(batch, 5);
      Engine.Gradient b = engine.gradient(batch, 5);
      Engine.Gradient c = engine.gradient(batch, 6);
      assertThat(b.loss()).isEqualTo(a.loss());
      assertSameValues("fc7.weight", b.gradients().get("fc7.weight").data(), a.gradients().get("fc7.weight").data());
      assertThat(c.gradients().get("fc7.weight").maxRelativeError(a.gradients().get("fc7.weight"), 1e-6))
          .isGreaterThan(1e-3);
    }

    // Training on one fixed batch memorises it (no dropout, pixel-like magnitudes: mean-subtracted images).
    try (TorchEngine engine = new TorchEngine(SMALL_NO_DROPOUT, "cpu")) {
      Batch batch = batch(SMALL_NO_DROPOUT, 8, 41, 30);
      double before = meanTrueClassProbability(engine.predict(batch), batch);
      List<Double> losses = new ArrayList<>();
      for (int step = 0; step < 30; step++) {
        losses.add(engine.trainStep(batch, 100 + step));
      }
      double after = meanTrueClassProbability(engine.predict(batch), batch);
      System.out.printf("torch small batch 8, 30 steps on one batch: loss %.4f -> %.4f, p(true class) %.3f -> %.3f%n",
          losses.get(0), losses.get(29), before, after);
      assertThat(losses).allSatisfy(l -> assertThat(l).isFinite());
      assertThat(losses.get(29)).isLessThan(losses.get(0) / 2);
      assertThat(after).isGreaterThan(before);
    }
  }

  @Test
  @Order(8)
  void nativeMemoryDoesNotGrowOverManySteps() throws IOException {
    try (TorchEngine engine = new TorchEngine(SMALL, "cpu")) {
      Batch batch = batch(SMALL, 8, 61, 1);
      for (int i = 0; i < 20; i++) {
        engine.trainStep(batch, i);
      }
      System.gc(); // from here on little Java garbage: RSS growth would be native tensors left behind
      long before = rssKb();
      for (int i = 0; i < 200; i++) {
        engine.trainStep(batch, 1000 + i);
        if (i % 20 == 0) {
          engine.predict(batch);
          engine.gradient(batch, i);
        }
      }
      long after = rssKb();
      System.out.printf("torch RSS over 200 small steps: %d MB -> %d MB (%+d MB)%n", before / 1024, after / 1024,
          (after - before) / 1024);
      // without the PointerScopes this grows by ~1 MB a step (freed only when the GC happens to run)
      assertThat(after - before).isLessThan(100 * 1024);
    }
  }

  @Test
  @Order(9)
  void paperProfileByShapeAndOneStep() {
    AlexNetSpec spec = AlexNetSpec.paper();
    try (TorchEngine engine = new TorchEngine(spec, "cpu")) {
      long expected = ParameterLayout.of(spec).stream().mapToLong(ParameterLayout.Entry::size).sum();
      assertThat(engine.parameterCount()).isEqualTo(expected).isBetween(60_000_000L, 63_000_000L);
      Batch batch = batch(spec, 2, 51, 1);
      float[] before = engine.predict(batch);
      double loss = engine.trainStep(batch, 1);
      float[] p = engine.predict(batch);
      double evalLoss = 0;
      double sum = 0;
      for (int n = 0; n < 2; n++) {
        evalLoss -= Math.log(before[n * 1000 + batch.labels()[n]]) / 2;
        for (int c = 0; c < 1000; c++) {
          sum += p[n * 1000 + c];
        }
      }
      System.out.printf("torch paper profile, batch 2: train-mode loss %.4f, eval-mode loss %.4f (ln 1000 = %.4f)%n", loss,
          evalLoss, Math.log(1000));
      // dropout's 1/(1-p) scaling widens the logits in train mode: the loss lies above ln(1000), not far
      assertThat(loss).isFinite().isCloseTo(Math.log(1000), within(2.0));
      assertThat(evalLoss).isCloseTo(Math.log(1000), within(1.0));
      assertThat(p).hasSize(2000).isNotEqualTo(before);
      assertThat(sum).isCloseTo(2.0, within(1e-4));
    }
  }

  @Test
  @Order(10)
  void rejectsDevicesItCannotUse() {
    TorchNatives.load();
    if (!org.bytedeco.pytorch.global.torch.cuda_is_available()) {
      assertThatThrownBy(() -> new TorchEngine(SMALL, "cuda")).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("CUDA");
      assertThatThrownBy(() -> new TorchEngine(SMALL, "cuda:1")).isInstanceOf(IllegalArgumentException.class);
    }
    assertThatThrownBy(() -> new TorchEngine(SMALL, "gpu")).isInstanceOf(IllegalArgumentException.class);
    TorchEngine engine = new TorchEngine(SMALL, "cpu");
    engine.close();
    engine.close();
    assertThatThrownBy(() -> engine.predict(batch(SMALL, 1, 1, 1))).isInstanceOf(IllegalStateException.class);
  }

  // ---- helpers ---------------------------------------------------------------------------------

  /** Seeded N(0, scale²) features and labels n mod classes. */
  @Test
  @Order(5)
  void slicesWeightedBySizeStepAsTheirConcatenation() {
    // the data-parallel step (each slice's gradient × its size, summed, / the global batch) must be
    // the plain step on the whole batch: dropout off, so the masks cannot differ
    AlexNetSpec spec = SMALL_NO_DROPOUT;
    Batch whole = batch(spec, 12, 21, 1);
    Batch first = slice(whole, 0, 5);
    Batch second = slice(whole, 5, 12);
    Tensors w = ParameterInit.of(spec);
    Tensors v = random(spec, 6, 0.001f);
    try (TorchEngine plain = new TorchEngine(spec, "cpu"); TorchEngine sliced = new TorchEngine(spec, "cpu")) {
      for (TorchEngine e : List.of(plain, sliced)) {
        e.load(w, v);
        e.setLearningRate(0.05);
      }
      for (int step = 0; step < 3; step++) {
        double loss = plain.trainStep(whole, step);
        double l1 = sliced.accumulateGradient(first, step, first.size());
        double l2 = sliced.accumulateGradient(second, step, second.size());
        sliced.stepAccumulated(org.alexkafka.trainer.distributed.ProcessGroup.solo(), 1.0 / whole.size());
        assertThat((l1 * first.size() + l2 * second.size()) / whole.size()).isCloseTo(loss, within(1e-5));
      }
      assertThat(sliced.parameters().maxRelativeError(plain.parameters(), 1e-2)).isLessThan(1e-5);
      assertThat(sliced.momentum().maxRelativeError(plain.momentum(), 1e-3)).isLessThan(1e-4);
      assertThat(plain.parameters().maxRelativeError(w, 1e-2)).isGreaterThan(1e-3); // the steps moved the weights
    }
  }

  @Test
  @Order(6)
  void convertsEightBitCropsToTheFloatsTheHostWouldMake() {
    // what a GPU does with 8-bit batches, here on the CPU: the same floats as the host's conversion
    // (bit for bit: the same two float operations in the same order), so the same loss and gradients
    AlexNetSpec spec = SMALL_NO_DROPOUT;
    int crop = spec.inputSize();
    int side = crop + 9;
    Random r = new Random(8);
    float[] meanPixels = new float[side * side * 3];
    for (int i = 0; i < meanPixels.length; i++) {
      meanPixels[i] = r.nextFloat() * 255;
    }
    InputMean mean = new InputMean(side, side, meanPixels);
    int n = 6;
    byte[] px = new byte[n * crop * crop * 3];
    r.nextBytes(px);
    int[] cropX = new int[n];
    int[] cropY = new int[n];
    boolean[] mirrored = new boolean[n];
    float[] lighting = new float[3 * n];
    for (int b = 0; b < n; b++) {
      cropX[b] = b == 0 ? 0 : b == 1 ? side - crop : r.nextInt(side - crop + 1); // both edges, then anywhere
      cropY[b] = b == 0 ? side - crop : r.nextInt(side - crop + 1);
      mirrored[b] = b % 2 == 1 || b == 4;
      for (int c = 0; c < 3; c++) {
        lighting[3 * b + c] = (float) r.nextGaussian() * 20;
      }
    }
    PixelCrops crops = new PixelCrops(px, cropX, cropY, mirrored, lighting, mean);
    int[] labels = {0, 1, 2, 3, 4, 5};
    Batch eightBit = Batch.ofPixels(crop, crops, labels);
    Batch floats = new Batch(n, 3, crop, crop, crops.features(crop), labels);
    try (TorchEngine engine = new TorchEngine(spec, "cpu")) {
      assertThat(engine.convertsPixels()).as("on the CPU the host converts (on its feed threads)").isFalse();
      float[] converted = engine.inputOf(eightBit);
      assertSameValues("input", converted, floats.features());
      // and the host's floats are the formula's: pixel - mean at the crop's (mirrored) position + lighting
      int b = 1;
      int y = 3;
      int x = 5;
      int c = 2;
      float want = (px[((b * crop + y) * crop + x) * 3 + c] & 0xFF)
          - meanPixels[((cropY[b] + y) * side + cropX[b] + crop - 1 - x) * 3 + c] + lighting[3 * b + c];
      assertThat(converted[((b * 3 + c) * crop + y) * crop + x]).isEqualTo(want);
      Engine.Gradient g1 = engine.gradient(eightBit, 3);
      Engine.Gradient g2 = engine.gradient(floats, 3);
      assertThat(g1.loss()).isEqualTo(g2.loss());
      assertExactlyEqual(g1.gradients(), g2.gradients());
      assertSameValues("predictions", engine.predict(eightBit), engine.predict(floats));
    }
  }

  private static Batch slice(Batch b, int from, int to) {
    int per = b.channels() * b.height() * b.width();
    return new Batch(to - from, b.channels(), b.height(), b.width(),
        java.util.Arrays.copyOfRange(b.features(), from * per, to * per), java.util.Arrays.copyOfRange(b.labels(), from, to));
  }

  static Batch batch(AlexNetSpec spec, int n, long seed, float scale) {
    Random r = new Random(seed);
    int s = spec.inputSize();
    float[] x = new float[n * 3 * s * s];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextGaussian() * scale;
    }
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      y[i] = i % spec.classes();
    }
    return new Batch(n, 3, s, s, x, y);
  }

  private static Tensors random(AlexNetSpec spec, long seed, float scale) {
    Random r = new Random(seed);
    Map<String, Tensor> m = new LinkedHashMap<>();
    for (ParameterLayout.Entry e : ParameterLayout.of(spec)) {
      float[] v = new float[e.size()];
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) r.nextGaussian() * scale;
      }
      m.put(e.name(), new Tensor(e.shape(), v));
    }
    return new Tensors(m);
  }

  private static void assertExactlyEqual(Tensors actual, Tensors expected) {
    assertThat(actual.byName().keySet()).containsExactlyElementsOf(expected.byName().keySet());
    for (String name : expected.byName().keySet()) {
      assertThat(actual.get(name).shape()).as(name).containsExactly(expected.get(name).shape());
      assertSameValues(name, actual.get(name).data(), expected.get(name).data());
    }
  }

  /** Bit-for-bit equal float arrays (AssertJ's containsExactly is slow on 10^5 elements). */
  private static void assertSameValues(String what, float[] actual, float[] expected) {
    assertThat(actual.length).as(what + " length").isEqualTo(expected.length);
    if (!Arrays.equals(actual, expected)) {
      int i = Arrays.mismatch(actual, expected);
      throw new AssertionError(what + "[" + i + "] is " + actual[i] + ", expected exactly " + expected[i]);
    }
  }

  /**
   * Element-wise: |actual - expected| below {@code tolerance} times max(|expected|, scale, floor),
   * where scale is the magnitude of the terms the value was summed from and floor 1e-3 of the
   * tensor's largest value.
   */
  private static void assertClose(Tensors actual, Tensors expected, Map<String, float[]> scales, double tolerance) {
    assertThat(actual.byName().keySet()).containsExactlyElementsOf(expected.byName().keySet());
    for (String name : expected.byName().keySet()) {
      float[] want = expected.get(name).data();
      float[] got = actual.get(name).data();
      float[] scale = scales.get(name);
      double max = 0;
      for (float x : want) {
        max = Math.max(max, Math.abs(x));
      }
      double worst = 0;
      int at = -1;
      for (int i = 0; i < want.length; i++) {
        double err = Math.abs(got[i] - want[i]) / Math.max(Math.max(Math.abs(want[i]), scale[i]), Math.max(1e-3 * max, 1e-12));
        if (err > worst) {
          worst = err;
          at = i;
        }
      }
      assertThat(worst).as("%s[%d]: %s, expected %s", name, at, at < 0 ? 0 : got[at], at < 0 ? 0 : want[at])
          .isLessThan(tolerance);
    }
  }

  /** The indices of the {@code k} largest |values|. */
  private static int[] largest(float[] values, int k) {
    Integer[] idx = new Integer[values.length];
    for (int i = 0; i < idx.length; i++) {
      idx[i] = i;
    }
    Arrays.sort(idx, (a, b) -> Float.compare(Math.abs(values[b]), Math.abs(values[a])));
    int[] out = new int[k];
    for (int i = 0; i < k; i++) {
      out[i] = idx[i];
    }
    return out;
  }

  private static double lossWith(TorchEngine engine, Tensors w, String name, int index, double delta, Batch batch) {
    Map<String, Tensor> m = new LinkedHashMap<>(w.byName());
    float[] v = w.get(name).data().clone();
    v[index] += (float) delta;
    m.put(name, new Tensor(w.get(name).shape(), v));
    engine.load(new Tensors(m), null);
    return engine.gradient(batch, 0).loss();
  }

  /** b = a / (2 + 1e-4 * sum of a^2 over the 5 maps around, within the tower)^0.75, NCHW. */
  private static float[] referenceLrn(float[] a, int n, int maps, int towers, int side) {
    int plane = side * side;
    int perTower = maps / towers;
    float[] b = new float[a.length];
    for (int s = 0; s < n; s++) {
      for (int c = 0; c < maps; c++) {
        int lo = Math.max(c - 2, (c / perTower) * perTower);
        int hi = Math.min(c + 2, (c / perTower) * perTower + perTower - 1);
        for (int i = 0; i < plane; i++) {
          double sum = 0;
          for (int j = lo; j <= hi; j++) {
            double x = a[(s * maps + j) * plane + i];
            sum += x * x;
          }
          int at = (s * maps + c) * plane + i;
          b[at] = (float) (a[at] / Math.pow(2 + 1e-4 * sum, 0.75));
        }
      }
    }
    return b;
  }

  private static double meanTrueClassProbability(float[] p, Batch batch) {
    int classes = p.length / batch.size();
    double sum = 0;
    for (int n = 0; n < batch.size(); n++) {
      sum += p[n * classes + batch.labels()[n]];
    }
    return sum / batch.size();
  }

  private static long rssKb() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    throw new IllegalStateException("no VmRSS in /proc/self/status");
  }
}
