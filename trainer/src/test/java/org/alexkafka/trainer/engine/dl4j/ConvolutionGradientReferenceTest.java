package org.alexkafka.trainer.engine.dl4j;

import static org.assertj.core.api.Assertions.assertThat;

import org.alexkafka.trainer.engine.dl4j.speed.LayerHelpers;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.CnnLossLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * DL4J's 3x3 pad-1 convolution backprop at the two-tower paper net's conv3 and conv4 shapes (batch
 * 2, 13x13), built-in path and fast helpers, against a float64 reference: the weight gradient and
 * the input gradient. These were suspected when the engines disagreed on the two-tower net; the
 * cause was a ReLU tie (see EnginesAgreeTest#paperTwoTowers), and this keeps them ruled out.
 */
class ConvolutionGradientReferenceTest {

  private static final int BATCH = 2;
  private static final int SIDE = 13;

  @ParameterizedTest(name = "{0} -> {1} maps, helpers {2}")
  @CsvSource({"192, 192, false", "192, 192, true", "256, 192, false", "256, 192, true"})
  void weightAndInputGradientsMatchFloat64(int in, int out, boolean helpers) {
    ComputationGraph graph = oneConvolution(in, out);
    if (helpers) {
      LayerHelpers.enable(graph);
    } else {
      LayerHelpers.disable(graph);
    }
    Layer conv = graph.getLayer("conv");
    Nd4j.getRandom().setSeed(5);
    INDArray x = Nd4j.randn(DataType.FLOAT, BATCH, in, SIDE, SIDE);
    INDArray epsilon = Nd4j.randn(DataType.FLOAT, BATCH, out, SIDE, SIDE);
    LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
    conv.setInput(x, mgr);
    conv.activate(true, mgr);
    Pair<Gradient, INDArray> result = conv.backpropGradient(epsilon, mgr);

    double[][] ref = reference(values(x), values(conv.getParam("W")), values(epsilon), in, out);
    assertThat(relativeError(values(result.getFirst().getGradientFor("W")), ref[0])).as("weight gradient").isLessThan(1e-5);
    assertThat(relativeError(values(result.getSecond()), ref[1])).as("input gradient").isLessThan(1e-5);
  }

  /** One identity-activation convolution; the layer in front makes DL4J (and LeanConvHelper) compute its input gradient. */
  private static ComputationGraph oneConvolution(int in, int out) {
    var conf = new NeuralNetConfiguration.Builder().seed(1).dataType(DataType.FLOAT).convolutionMode(ConvolutionMode.Truncate)
        .graphBuilder().addInputs("in").setInputTypes(InputType.convolutional(SIDE, SIDE, in))
        .addLayer("front", new ActivationLayer(Activation.IDENTITY), "in")
        .addLayer("conv", new ConvolutionLayer.Builder(3, 3).stride(1, 1).padding(1, 1).nOut(out)
            .activation(Activation.IDENTITY).build(), "front")
        .addLayer("loss", new CnnLossLayer.Builder(LossFunctions.LossFunction.L2).activation(Activation.IDENTITY).build(), "conv")
        .setOutputs("loss").build();
    ComputationGraph graph = new ComputationGraph(conf);
    graph.init();
    graph.initGradientsView(); // backpropGradient writes into the gradient views
    return graph;
  }

  /** {dW, dX} of a 3x3, pad 1, stride 1 convolution, in float64; NCHW input, [out, in, 3, 3] weights. */
  private static double[][] reference(float[] x, float[] w, float[] e, int in, int out) {
    double[] dW = new double[out * in * 9];
    double[] dX = new double[BATCH * in * SIDE * SIDE];
    for (int n = 0; n < BATCH; n++) {
      for (int o = 0; o < out; o++) {
        for (int c = 0; c < in; c++) {
          for (int k = 0; k < 9; k++) {
            int ky = k / 3;
            int kx = k % 3;
            int wi = (o * in + c) * 9 + k;
            double acc = 0;
            for (int y = Math.max(0, 1 - ky); y < Math.min(SIDE, SIDE + 1 - ky); y++) {
              for (int col = Math.max(0, 1 - kx); col < Math.min(SIDE, SIDE + 1 - kx); col++) {
                double ev = e[((n * out + o) * SIDE + y) * SIDE + col];
                int xi = ((n * in + c) * SIDE + y + ky - 1) * SIDE + col + kx - 1;
                acc += ev * x[xi];
                dX[xi] += ev * w[wi];
              }
            }
            dW[wi] += acc;
          }
        }
      }
    }
    return new double[][] {dW, dX};
  }

  private static float[] values(INDArray a) {
    return Nd4j.toFlattened('c', a).toFloatVector();
  }

  private static double relativeError(float[] actual, double[] expected) {
    double diff = 0;
    double norm = 0;
    for (int i = 0; i < actual.length; i++) {
      diff += (actual[i] - expected[i]) * (actual[i] - expected[i]);
      norm += expected[i] * expected[i];
    }
    return Math.sqrt(diff / norm);
  }
}
