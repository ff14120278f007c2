package org.alexkafka.trainer.engine.dl4j;

import org.alexkafka.trainer.model.AlexNetSpec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Map;
import org.deeplearning4j.nn.conf.dropout.Dropout;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

class AlexNetTest {

  @Test
  void paperSizesGiveThePapersMapsAndParameterCounts() {
    AlexNetSpec paper = AlexNetSpec.paper();
    assertThat(paper.conv1Padding()).isEqualTo(2);
    assertThat(paper.conv1Side()).isEqualTo(55);
    assertThat(paper.finalSide()).isEqualTo(6);
    AlexNetSpec at227 = new AlexNetSpec(227, 1000, 96, 256, 384, 384, 256, 4096, 1, 0.5, 0.01, 1);
    assertThat(at227.conv1Padding()).isZero();
    assertThat(at227.conv1Side()).isEqualTo(55);
    // one tower: conv 3,747,200 + fc6 37,752,832 + fc7 16,781,312 + fc8 4,097,000
    assertThat(AlexNet.configuration(paper).getVertices()).containsKeys("conv1", "lrn1", "pool1", "conv5", "pool5", "fc8");
    ComputationGraph two = AlexNet.build(AlexNetSpec.paperTwoTowers());
    // conv2, conv4 and conv5 see half their inputs: 62,378,344 - 307,200 - 663,552 - 442,368
    assertThat(two.numParams()).isEqualTo(60_965_224L);
  }

  /** The full-size network: one forward/backward step at batch 2, with the paper's map sizes. */
  @Test
  void fullSizeNetworkTakesOneTrainingStep() {
    ComputationGraph net = AlexNet.build(AlexNetSpec.paper());
    assertThat(net.numParams()).isEqualTo(62_378_344L);
    INDArray input = Nd4j.rand(DataType.FLOAT, 2, 3, 224, 224).subi(0.5).muli(100);
    INDArray labels = Nd4j.zeros(DataType.FLOAT, 2, 1000);
    labels.putScalar(0, 7, 1);
    labels.putScalar(1, 993, 1);
    Map<String, INDArray> acts = net.feedForward(input, false);
    assertThat(acts.get("conv1").shape()).containsExactly(2, 96, 55, 55);
    assertThat(acts.get("pool1").shape()).containsExactly(2, 96, 27, 27);
    assertThat(acts.get("pool2").shape()).containsExactly(2, 256, 13, 13);
    assertThat(acts.get("conv5").shape()).containsExactly(2, 256, 13, 13);
    assertThat(acts.get("pool5").shape()).containsExactly(2, 256, 6, 6);
    assertThat(acts.get("fc8").shape()).containsExactly(2, 1000);

    INDArray before = net.params().dup();
    net.fit(new DataSet(input, labels));
    double dataLoss = net.score() - net.calcRegularizationScore(true);
    // untrained softmax over 1000 classes: cross-entropy near ln(1000) = 6.91
    assertThat(dataLoss).isBetween(Math.log(1000) - 1, Math.log(1000) + 1.5);
    assertThat(net.params().sub(before).norm2Number().doubleValue()).isGreaterThan(0);
  }

  @Test
  void initialisationAndDropoutFollowThePaper() {
    ComputationGraph net = AlexNet.build(AlexNetSpec.paper().withClasses(10).withInputSize(67));
    for (String layer : new String[] {"conv2", "conv4", "conv5", "fc6", "fc7"}) {
      INDArray b = net.getParam(layer + "_b");
      assertThat(b.minNumber().doubleValue()).as(layer).isEqualTo(1.0);
      assertThat(b.maxNumber().doubleValue()).as(layer).isEqualTo(1.0);
    }
    for (String layer : new String[] {"conv1", "conv3", "fc8"}) {
      assertThat(net.getParam(layer + "_b").amaxNumber().doubleValue()).as(layer).isZero();
    }
    INDArray w = net.getParam("fc6_W");
    assertThat(w.meanNumber().doubleValue()).isCloseTo(0, within(0.001));
    assertThat(w.stdNumber().doubleValue()).isCloseTo(0.01, within(0.0005));

    // DL4J's dropOut(p) keeps with probability p and acts on the layer's input
    assertThat(net.getLayer("fc6").conf().getLayer().getIDropout()).isNull();
    for (String layer : new String[] {"fc7", "fc8"}) {
      assertThat(net.getLayer(layer).conf().getLayer().getIDropout())
          .isInstanceOfSatisfying(Dropout.class, d -> assertThat(d.getP()).isEqualTo(0.5));
    }
  }

  @Test
  void lrnIsThePapersFormulaAcrossFiveMaps() {
    ComputationGraph net = AlexNet.build(AlexNetSpec.small(10, 64));
    INDArray input = Nd4j.rand(DataType.FLOAT, 1, 3, 64, 64).muli(3000); // large activations: the alpha term matters
    Map<String, INDArray> acts = net.feedForward(input, false);
    INDArray a = acts.get("conv1");
    INDArray b = acts.get("lrn1");
    long maps = a.size(1);
    double maxRelErr = 0;
    double maxDenominator = 0;
    for (int c = 0; c < maps; c++) {
      for (int y = 0; y < a.size(2); y += 3) {
        for (int x = 0; x < a.size(3); x += 3) {
          double sum = 0;
          for (long j = Math.max(0, c - 2); j <= Math.min(maps - 1, c + 2); j++) {
            double v = a.getDouble(0, j, y, x);
            sum += v * v;
          }
          double denominator = Math.pow(2 + 1e-4 * sum, 0.75);
          maxDenominator = Math.max(maxDenominator, denominator);
          double expected = a.getDouble(0, c, y, x) / denominator;
          double got = b.getDouble(0, c, y, x);
          maxRelErr = Math.max(maxRelErr, Math.abs(got - expected) / (Math.abs(expected) + 1e-6));
        }
      }
    }
    assertThat(maxDenominator).as("test reaches the alpha term").isGreaterThan(2.5);
    assertThat(maxRelErr).isLessThan(1e-4);
  }

  /** Two towers: conv2, conv4, conv5 of one tower must not see the other tower's maps. */
  @Test
  void aTowerCannotSeeTheOtherTowersMaps() {
    AlexNetSpec spec = AlexNetSpec.small(10, 64).withTowers(2);
    ComputationGraph net = AlexNet.build(spec);
    INDArray input = Nd4j.rand(DataType.FLOAT, 2, 3, 64, 64).subi(0.5).muli(200);
    Map<String, INDArray> base = dup(net.feedForward(input, false));

    // change the conv1 kernels of tower a
    net.getParam("conv1a_W").addi(0.05);
    Map<String, INDArray> changed = dup(net.feedForward(input, false));
    assertThat(diff(base, changed, "conv2a")).isGreaterThan(1e-3);
    assertThat(diff(base, changed, "conv2b")).isZero();
    assertThat(diff(base, changed, "conv3a")).isGreaterThan(1e-3); // conv3 sees both towers
    assertThat(diff(base, changed, "conv3b")).isGreaterThan(1e-3);
    assertThat(diff(base, changed, "conv4b")).as("conv3 mixes the towers").isGreaterThan(1e-6);

    // change conv4 of tower a: conv5 of tower b must not move
    Map<String, INDArray> base2 = changed;
    INDArray w4 = net.getParam("conv4a_W");
    w4.addi(0.05);
    Map<String, INDArray> changed2 = dup(net.feedForward(input, false));
    assertThat(diff(base2, changed2, "conv5a")).isGreaterThan(1e-3);
    assertThat(diff(base2, changed2, "conv5b")).isZero();
    assertThat(diff(base2, changed2, "fc6")).isGreaterThan(1e-6); // fc6 sees both towers
  }

  private static Map<String, INDArray> dup(Map<String, INDArray> acts) {
    Map<String, INDArray> copy = new java.util.HashMap<>();
    acts.forEach((k, v) -> copy.put(k, v.dup()));
    return copy;
  }

  private static double diff(Map<String, INDArray> a, Map<String, INDArray> b, String layer) {
    return a.get(layer).sub(b.get(layer)).norm2Number().doubleValue();
  }
}
