package org.alexkafka.trainer.engine.dl4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.HashMap;
import java.util.Map;
import org.alexkafka.trainer.engine.dl4j.AlexNet;
import org.alexkafka.trainer.model.AlexNetSpec;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

class PaperMomentumTest {

  @Test
  void updaterFollowsAHandComputedSequence() {
    // lr 0.1, momentum 0.9; g already holds dL/dw + decay term:
    // v1 = -0.1*0.5 = -0.05 ; v2 = 0.9*-0.05 - 0.1*-0.2 = -0.025 ; v3 = 0.9*-0.025 - 0.1*0.3 = -0.0525
    PaperMomentum config = new PaperMomentum(0.1, 0.9);
    INDArray state = Nd4j.zeros(1, 1);
    PaperMomentumUpdater updater = (PaperMomentumUpdater) config.instantiate(state, true);
    double w = 1.0;
    double[] gradients = {0.5, -0.2, 0.3};
    double[] expectedV = {-0.05, -0.025, -0.0525};
    double[] expectedW = {0.95, 0.925, 0.8725};
    for (int i = 0; i < 3; i++) {
      INDArray g = Nd4j.createFromArray(new float[][] {{(float) gradients[i]}});
      updater.applyUpdater(g, i, 0);
      w -= g.getDouble(0); // DL4J's step: params minus updater output
      assertThat(state.getDouble(0)).isCloseTo(expectedV[i], within(1e-7));
      assertThat(w).isCloseTo(expectedW[i], within(1e-7));
    }
  }

  /**
   * Three real training steps of the small network, checked against the paper's formula applied by
   * hand to DL4J's raw gradients: decay on weights only, the learning rate changed between steps
   * keeps the velocity, and nothing else (no normalisation, no extra scaling) touches the update.
   */
  @Test
  void networkStepsAreThePapersUpdateOnWeightsAndBiases() {
    AlexNetSpec spec = AlexNetSpec.small(5, 64).withDropout(0);
    ComputationGraph net = AlexNet.build(spec);
    Nd4j.getRandom().setSeed(3);
    DataSet batch = new DataSet(Nd4j.randn(org.nd4j.linalg.api.buffer.DataType.FLOAT, 4, 3, 64, 64).muli(40),
        Nd4j.eye(5).getRows(0, 3, 1, 4).castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT));

    Map<String, INDArray> velocity = new HashMap<>();
    double[] rates = {0.01, 0.01, 0.001};
    for (int step = 0; step < rates.length; step++) {
      net.setLearningRate(rates[step]);
      double lr = rates[step];
      net.setInputs(batch.getFeatures());
      net.setLabels(batch.getLabels());
      net.computeGradientAndScore();
      Map<String, INDArray> grads = new HashMap<>();
      net.gradient().gradientForVariable().forEach((k, g) -> grads.put(k, g.dup()));
      Map<String, INDArray> expected = new HashMap<>();
      for (Layer layer : net.getLayers()) {
        String name = layer.conf().getLayer().getLayerName();
        for (var e : layer.paramTable().entrySet()) {
          String key = name + "_" + e.getKey();
          INDArray w = e.getValue().dup();
          INDArray g = grads.get(key);
          INDArray v = velocity.computeIfAbsent(key, k -> Nd4j.zerosLike(w));
          boolean isWeight = e.getKey().equals("W");
          // DL4J's backprop gives the batch SUM; the paper's dL/dw is the batch average, which DL4J
          // forms before the L2 term and the updater run.
          // v <- 0.9 v - 0.0005 lr w - lr g  (decay on weights only) ; w <- w + v
          v.muli(0.9).subi(g.mul(lr / batch.numExamples()));
          if (isWeight) {
            v.subi(w.mul(0.0005 * lr));
          }
          expected.put(key, w.add(v));
        }
      }
      net.fit(batch);
      for (Layer layer : net.getLayers()) {
        String name = layer.conf().getLayer().getLayerName();
        for (var e : layer.paramTable().entrySet()) {
          INDArray want = expected.get(name + "_" + e.getKey());
          INDArray got = e.getValue();
          double scale = want.norm2Number().doubleValue() + 1e-12;
          assertThat(got.sub(want).norm2Number().doubleValue() / scale).as("step %d %s_%s", step, name, e.getKey())
              .isLessThan(1e-4);
        }
      }
    }
    // the update really moved the weights by more than float noise
    assertThat(velocity.get("fc8_W").norm2Number().doubleValue()).isGreaterThan(1e-6);
  }
}
