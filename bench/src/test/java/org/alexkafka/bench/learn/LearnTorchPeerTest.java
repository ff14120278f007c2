package org.alexkafka.bench.learn;

import org.alexkafka.trainer.checkpoint.Npy;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.alexkafka.trainer.engine.dl4j.AlexNet;
import org.alexkafka.trainer.model.AlexNetSpec;
import org.alexkafka.trainer.train.LearningRateSchedule;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The PyTorch peer's network and update are the trainer's: with the trainer's initial weights
 * (dropout off, so both are deterministic) bench/learn_torch.py gives the same softmax outputs
 * and, after two steps of the paper's momentum with weight decay, the same weight changes; its own
 * init has the trainer's biases and weight scale. Skipped without /usr/bin/python3 with torch.
 */
class LearnTorchPeerTest {

  static final String[] LAYERS = {"conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"};
  static final int BATCH = 6;

  @TempDir
  Path tmp;

  static Npy.Array array(INDArray a) {
    INDArray c = a.dup('c');
    float[] values = c.data().asFloat();
    assertThat(values).hasSize((int) a.length());
    return Npy.ofFloats(values, a.shape());
  }

  /** The peer's plateau rule decides as the trainer's LearningRateSchedule, read from the settings the bench exports. */
  @Test
  void thePeerHasTheTrainersPlateauRule() throws Exception {
    Path python = SampleExportTest.PYTHON;
    Path script = LearnBenchTestSupport.script();
    assumeTrue(Files.isExecutable(python) && script != null, "no python or no bench/learn_torch.py");
    double[] errors = {0.8, 0.7, 0.695, 0.694, 0.69, 0.5, 0.5, 0.498, 0.45, 0.46, 0.451, 0.452, 0.3, 0.31, 0.32, 0.33, 0.2};
    LearningRateSchedule.Settings settings = new LearningRateSchedule.Settings(LearningRateSchedule.Rule.PLATEAU, 0.01, 2, 0.01, 2, java.util.List.of());
    LearningRateSchedule schedule = new LearningRateSchedule(settings, null);
    StringBuilder javaDecisions = new StringBuilder();
    for (double e : errors) {
      javaDecisions.append(schedule.afterValidation(e)).append(' ')
          .append(String.format(java.util.Locale.ROOT, "%.6e", schedule.learningRate())).append('\n');
    }
    java.util.Map<String, Object> cfg = java.util.Map.of("lr", SampleExport.components(settings));
    new ObjectMapper().writeValue(tmp.resolve("cfg.json").toFile(), cfg);
    String code = String.join("\n",
        "import sys, json; sys.path.insert(0, sys.argv[1]); import learn_torch as lt",
        "s = lt.Plateau(lt.lr_settings(json.load(open(sys.argv[2] + '/cfg.json'))))",
        "for e in " + java.util.Arrays.toString(errors) + ":",
        "    print(s.after_validation(e), f'{s.lr:.6e}')");
    Process p = new ProcessBuilder(python.toString(), "-c", code, script.getParent().toString(), tmp.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assumeTrue(p.waitFor(120, TimeUnit.SECONDS), "python timed out");
    assumeTrue(!out.contains("ModuleNotFoundError"), "python lacks numpy or torch: " + out);
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(javaDecisions.toString()).contains("REDUCE", "STOP_PLATEAU");
    assertThat(out).isEqualTo(javaDecisions.toString());
  }

  @Test
  void thePeerIsTheTrainersNetworkAndUpdate() throws Exception {
    Path python = SampleExportTest.PYTHON;
    Path script = LearnBenchTestSupport.script();
    assumeTrue(Files.isExecutable(python) && script != null, "no python or no bench/learn_torch.py");

    AlexNetSpec spec = AlexNetSpec.small(10, 64).withDropout(0).withSeed(5);
    ComputationGraph net = AlexNet.build(spec);
    new ObjectMapper().writeValue(tmp.resolve("spec.json").toFile(), SampleExport.spec(spec));
    for (String layer : LAYERS) {
      Npy.write(tmp.resolve(layer + "_W0.npy"), array(net.getLayer(layer).getParam("W")));
      Npy.write(tmp.resolve(layer + "_b0.npy"), array(net.getLayer(layer).getParam("b")));
    }
    Random r = new Random(3);
    float[] x = new float[BATCH * 3 * 64 * 64];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (r.nextGaussian() * 40);
    }
    int[] y = new int[BATCH];
    float[] oneHot = new float[BATCH * 10];
    for (int b = 0; b < BATCH; b++) {
      y[b] = r.nextInt(10);
      oneHot[b * 10 + y[b]] = 1;
    }
    INDArray features = Nd4j.create(x, new long[] {BATCH, 3, 64, 64}, 'c');
    Npy.write(tmp.resolve("x.npy"), Npy.ofFloats(x, BATCH, 3, 64, 64));
    Npy.write(tmp.resolve("y.npy"), Npy.ofInts(y, BATCH));
    float[] probs = net.outputSingle(false, features).dup('c').data().asFloat();
    DataSet data = new DataSet(features, Nd4j.create(oneHot, new long[] {BATCH, 10}, 'c'));
    net.fit(data);
    net.fit(data);

    String code = String.join("\n",
        "import sys, json, numpy as np, torch, torch.nn as nn, torch.nn.functional as F",
        "sys.path.insert(0, sys.argv[1]); import learn_torch as lt",
        "d = sys.argv[2]; spec = json.load(open(d + '/spec.json'))",
        "layers = " + "['" + String.join("','", LAYERS) + "']",
        "torch.manual_seed(1); fresh = [m for m in lt.network(spec) if isinstance(m, (nn.Conv2d, nn.Linear))]",
        "np.save(d + '/init_std.npy', np.array([m.weight.std().item() for m in fresh], dtype=np.float32))",
        "np.save(d + '/init_bias.npy', np.array([m.bias.mean().item() for m in fresh], dtype=np.float32))",
        "net = lt.network(spec); learned = [m for m in net if isinstance(m, (nn.Conv2d, nn.Linear))]",
        "with torch.no_grad():",
        "    for name, m in zip(layers, learned):",
        "        w = torch.from_numpy(np.load(d + '/' + name + '_W0.npy'))",
        "        m.weight.copy_(w.t() if isinstance(m, nn.Linear) else w)",
        "        m.bias.copy_(torch.from_numpy(np.load(d + '/' + name + '_b0.npy')).reshape(-1))",
        "x = torch.from_numpy(np.load(d + '/x.npy')); y = torch.from_numpy(np.load(d + '/y.npy').astype(np.int64))",
        "net.eval()",
        "with torch.no_grad(): np.save(d + '/probs.npy', F.softmax(net(x), dim=1).numpy())",
        "net.train(); params = lt.parameters(net)",
        "for _ in range(2): lt.train_step(net, params, x, y, 0.01)",
        "for name, m in zip(layers, learned):",
        "    w = m.weight.detach()",
        "    np.save(d + '/' + name + '_W2.npy', np.ascontiguousarray((w.t() if isinstance(m, nn.Linear) else w).numpy()))",
        "    np.save(d + '/' + name + '_b2.npy', m.bias.detach().numpy())");
    Process p = new ProcessBuilder(python.toString(), "-c", code, script.getParent().toString(), tmp.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assumeTrue(p.waitFor(180, TimeUnit.SECONDS), "python timed out");
    assumeTrue(!out.contains("ModuleNotFoundError"), "python lacks numpy or torch: " + out);
    assertThat(p.exitValue()).as(out).isZero();

    // the same function: softmax outputs of the same weights
    float[] torchProbs = Npy.read(tmp.resolve("probs.npy")).floats();
    for (int i = 0; i < probs.length; i++) {
      assertThat((double) torchProbs[i]).as("probability %d", i).isCloseTo(probs[i], org.assertj.core.data.Offset.offset(2e-5));
    }
    // the same update: v <- 0.9v - lr(g + 0.0005w) on weights, without decay on biases, two steps
    for (String layer : LAYERS) {
      for (String param : new String[] {"W", "b"}) {
        float[] before = Npy.read(tmp.resolve(layer + "_" + param + "0.npy")).floats();
        float[] javaAfter = array(net.getLayer(layer).getParam(param)).floats();
        float[] torchAfter = Npy.read(tmp.resolve(layer + "_" + param + "2.npy")).floats();
        double maxDelta = 0;
        double maxDiff = 0;
        for (int i = 0; i < before.length; i++) {
          maxDelta = Math.max(maxDelta, Math.abs(javaAfter[i] - before[i]));
          maxDiff = Math.max(maxDiff, Math.abs(javaAfter[i] - torchAfter[i]));
        }
        assertThat(maxDelta).as(layer + " " + param + " moved").isGreaterThan(0);
        assertThat(maxDiff).as(layer + " " + param + ": |java - torch| after two steps, vs the step " + maxDelta)
            .isLessThan(2e-3 * maxDelta + 1e-7);
      }
    }
    // the peer's own init: N(0, initStd) weights; biases 1 in conv2, conv4, conv5, fc6, fc7, else 0
    float[] std = Npy.read(tmp.resolve("init_std.npy")).floats();
    float[] bias = Npy.read(tmp.resolve("init_bias.npy")).floats();
    for (int l = 0; l < LAYERS.length; l++) {
      float[] initial = Npy.read(tmp.resolve(LAYERS[l] + "_b0.npy")).floats(); // the trainer's, before training
      double javaBias = initial[0];
      assertThat(initial).containsOnly(initial[0]);
      assertThat((double) bias[l]).as(LAYERS[l] + " bias").isEqualTo(javaBias);
      assertThat((double) std[l]).as(LAYERS[l] + " weight std").isCloseTo(spec.initStd(), org.assertj.core.data.Percentage.withPercentage(10));
    }
  }
}
