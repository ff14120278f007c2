package org.alexkafka.trainer.engine.dl4j;

import static org.assertj.core.api.Assertions.assertThat;

import org.alexkafka.trainer.model.AlexNetSpec;
import org.alexkafka.trainer.model.Paper;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.regularization.L2Regularization;

class PaperWeightDecayTest {

  @Test
  void addsTheDecayToTheGradientAsDl4jsL2DoesButNothingToTheScore() {
    Nd4j.getRandom().setSeed(1);
    INDArray w = Nd4j.rand(DataType.FLOAT, 4, 5).subi(0.5);
    INDArray g = Nd4j.rand(DataType.FLOAT, 4, 5).subi(0.5);
    INDArray viaL2 = g.dup();
    INDArray viaPaper = g.dup();
    new L2Regularization(Paper.WEIGHT_DECAY).apply(w, viaL2, 0.01, 3, 0);
    new PaperWeightDecay(Paper.WEIGHT_DECAY).apply(w, viaPaper, 0.01, 3, 0);
    assertThat(viaPaper).isEqualTo(viaL2);
    assertThat(viaPaper.sub(g).sub(w.mul(Paper.WEIGHT_DECAY)).amaxNumber().doubleValue()).isLessThan(1e-7); // float rounding of g + 5e-4 w
    assertThat(new L2Regularization(Paper.WEIGHT_DECAY).score(w, 3, 0)).isGreaterThan(0);
    assertThat(new PaperWeightDecay(Paper.WEIGHT_DECAY).score(w, 3, 0)).isZero();
  }

  /** What a checkpoint stores: the configuration's JSON, read back with the same decay on weights and none on biases. */
  @Test
  void theNetworksConfigurationKeepsItThroughJson() {
    ComputationGraphConfiguration conf = ComputationGraphConfiguration.fromJson(
        AlexNet.configuration(AlexNetSpec.small(10, 64)).toJson());
    var conv1 = (BaseLayer) ((LayerVertex) conf.getVertices().get("conv1")).getLayerConf().getLayer();
    assertThat(conv1.getRegularization()).singleElement().isInstanceOfSatisfying(PaperWeightDecay.class,
        d -> assertThat(d.getL2().valueAt(100, 2)).isEqualTo(Paper.WEIGHT_DECAY));
    assertThat(conv1.getRegularizationBias()).isEmpty();
    var fc8 = (BaseLayer) ((LayerVertex) conf.getVertices().get(AlexNet.OUTPUT)).getLayerConf().getLayer();
    assertThat(fc8.getRegularization()).singleElement().isInstanceOf(PaperWeightDecay.class);
  }
}
