package org.alexkafka.trainer.engine.dl4j;

import org.alexkafka.trainer.engine.dl4j.speed.LayerHelpers;
import org.alexkafka.trainer.model.AlexNetSpec;
import org.alexkafka.trainer.model.Paper;
import org.deeplearning4j.nn.api.OptimizationAlgorithm;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.distribution.NormalDistribution;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.LocalResponseNormalization;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInitDistribution;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The network of Krizhevsky, Sutskever and Hinton (2012), written out layer by layer (not DL4J's
 * zoo AlexNet, which differs from the paper). This class is the ONE place where the network is
 * built: the trainer, the evaluator and the bench all call {@link #build}.
 *
 * <pre>
 * input 3 x 224 x 224 (see AlexNetSpec for the 224/227 choice)
 * conv1 96 x 11x11 /4 -> ReLU -> LRN -> maxpool 3/2       (55 -> 27)
 * conv2 256 x 5x5 pad 2 -> ReLU -> LRN -> maxpool 3/2      (27 -> 13)   grouped in the two-tower net
 * conv3 384 x 3x3 pad 1 -> ReLU                                          sees all maps
 * conv4 384 x 3x3 pad 1 -> ReLU                                          grouped
 * conv5 256 x 3x3 pad 1 -> ReLU -> maxpool 3/2             (13 -> 6)    grouped
 * fc6 4096 -> ReLU -> dropout 0.5 ; fc7 4096 -> ReLU -> dropout 0.5 ; fc8 N -> softmax
 * </pre>
 *
 * Init std comes from the spec (the paper: 0.01, {@link Paper#INIT_STD}).
 *
 * <p>LRN: b = a / (k + alpha * sum over n=5 adjacent maps of a^2)^beta, k=2, alpha=1e-4, beta=0.75
 * (DL4J's layer uses exactly this form: alpha is not divided by n; a test checks it). Init: weights
 * N(0, 0.01); biases 1 in conv2, conv4, conv5, fc6, fc7 and 0 elsewhere. Weight decay 0.0005 on
 * weights only ({@link PaperWeightDecay}: DL4J's l2, added to the gradient before the updater, left out of
 * the score) and the paper's momentum
 * update ({@link PaperMomentum}); no gradient normalisation or clipping.
 *
 * <p>Dropout: DL4J's {@code dropOut(p)} takes a RETAIN probability and applies it to a layer's
 * INPUT, so "dropout 0.5 on fc6's output" is {@code dropOut(0.5)} on fc7 and "on fc7's output" is
 * {@code dropOut(0.5)} on fc8. DL4J's dropout is inverted (kept units scaled by 1/0.5 during
 * training), equivalent to the paper's halving of the outputs at test time.
 *
 * <p>Two towers (layer names with suffix a/b): each tower computes half of every layer's maps; a
 * {@link MergeVertex} joins them where the paper's GPUs communicate (the input of conv3 and of
 * fc6). LRN and pooling run per tower, as on the paper's two GPUs.
 */
public final class AlexNet {

  private static final Logger log = LoggerFactory.getLogger(AlexNet.class);

  public static final String INPUT = "input";
  public static final String OUTPUT = "fc8";


  private AlexNet() {
  }

  /** Builds and initialises the network; logs its parameter count. */
  public static ComputationGraph build(AlexNetSpec spec) {
    LayerHelpers.beforeBuildingNetworks();
    ComputationGraph graph = new ComputationGraph(configuration(spec));
    graph.init();
    LayerHelpers.enable(graph); // oneDNN conv/pool and the exact LRN (see trainer.speed)
    log.info("AlexNet {}: {} parameters ({} M), input {}x{} -> conv1 {}x{}, {} classes, {} tower(s)",
        spec, graph.numParams(), String.format("%.1f", graph.numParams() / 1e6), spec.inputSize(), spec.inputSize(),
        spec.conv1Side(), spec.conv1Side(), spec.classes(), spec.towers());
    return graph;
  }

  public static ComputationGraphConfiguration configuration(AlexNetSpec spec) {
    var graph = new NeuralNetConfiguration.Builder()
        .seed(spec.seed())
        .dataType(DataType.FLOAT)
        .optimizationAlgo(OptimizationAlgorithm.STOCHASTIC_GRADIENT_DESCENT)
        .updater(new PaperMomentum(Paper.INITIAL_LEARNING_RATE, Paper.MOMENTUM))
        .weightInit(new WeightInitDistribution(new NormalDistribution(0, spec.initStd())))
        .biasInit(0)
        .regularization(java.util.List.of(new PaperWeightDecay(Paper.WEIGHT_DECAY))) // weights only
        .gradientNormalization(GradientNormalization.None)
        .convolutionMode(ConvolutionMode.Truncate)
        .graphBuilder()
        .addInputs(INPUT)
        .setInputTypes(InputType.convolutional(spec.inputSize(), spec.inputSize(), 3));

    int pad1 = spec.conv1Padding();
    if (spec.towers() == 1) {
      graph.addLayer("conv1", conv1(spec.conv1(), pad1), INPUT);
      graph.addLayer("lrn1", lrn(), "conv1");
      graph.addLayer("pool1", maxPool(), "lrn1");
      graph.addLayer("conv2", conv(5, 2, spec.conv2(), 1), "pool1");
      graph.addLayer("lrn2", lrn(), "conv2");
      graph.addLayer("pool2", maxPool(), "lrn2");
      graph.addLayer("conv3", conv(3, 1, spec.conv3(), 0), "pool2");
      graph.addLayer("conv4", conv(3, 1, spec.conv4(), 1), "conv3");
      graph.addLayer("conv5", conv(3, 1, spec.conv5(), 1), "conv4");
      graph.addLayer("pool5", maxPool(), "conv5");
    } else {
      // Each tower computes its half of every layer's maps, as each of the paper's GPUs did. conv1
      // and conv3 read everything below them (the full image; both towers' pool2 maps), so their
      // two halves are the same arithmetic as one layer of full width; conv2, conv4 and conv5 read
      // only their own tower's maps: the grouped convolutions.
      String[] pool2 = {"pool2a", "pool2b"};
      String[] pool5 = {"pool5a", "pool5b"};
      for (String t : new String[] {"a", "b"}) {
        graph.addLayer("conv1" + t, conv1(spec.conv1() / 2, pad1), INPUT);
        graph.addLayer("lrn1" + t, lrn(), "conv1" + t);
        graph.addLayer("pool1" + t, maxPool(), "lrn1" + t);
        graph.addLayer("conv2" + t, conv(5, 2, spec.conv2() / 2, 1), "pool1" + t);
        graph.addLayer("lrn2" + t, lrn(), "conv2" + t);
        graph.addLayer("pool2" + t, maxPool(), "lrn2" + t);
      }
      graph.addVertex("pool2", new MergeVertex(), pool2);
      for (String t : new String[] {"a", "b"}) {
        graph.addLayer("conv3" + t, conv(3, 1, spec.conv3() / 2, 0), "pool2");
        graph.addLayer("conv4" + t, conv(3, 1, spec.conv4() / 2, 1), "conv3" + t);
        graph.addLayer("conv5" + t, conv(3, 1, spec.conv5() / 2, 1), "conv4" + t);
        graph.addLayer("pool5" + t, maxPool(), "conv5" + t);
      }
      graph.addVertex("pool5", new MergeVertex(), pool5);
    }

    double retain = 1 - spec.dropout();
    graph.addLayer("fc6", new DenseLayer.Builder().nOut(spec.fc()).activation(Activation.RELU).biasInit(1).build(), "pool5");
    graph.addLayer("fc7", dropout(new DenseLayer.Builder().nOut(spec.fc()).activation(Activation.RELU).biasInit(1), retain).build(), "fc6");
    graph.addLayer(OUTPUT, dropout(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
        .nOut(spec.classes()).activation(Activation.SOFTMAX).biasInit(0), retain).build(), "fc7");
    graph.setOutputs(OUTPUT);
    return graph.build();
  }

  private static <T extends org.deeplearning4j.nn.conf.layers.BaseLayer.Builder<T>> T dropout(T layer, double retain) {
    return retain < 1 ? layer.dropOut(retain) : layer;
  }

  private static ConvolutionLayer conv1(int maps, int pad) {
    return new ConvolutionLayer.Builder(AlexNetSpec.CONV1_KERNEL, AlexNetSpec.CONV1_KERNEL)
        .stride(AlexNetSpec.CONV1_STRIDE, AlexNetSpec.CONV1_STRIDE).padding(pad, pad)
        .nOut(maps).activation(Activation.RELU).biasInit(0).build();
  }

  private static ConvolutionLayer conv(int kernel, int pad, int maps, double bias) {
    return new ConvolutionLayer.Builder(kernel, kernel).stride(1, 1).padding(pad, pad).nOut(maps)
        .activation(Activation.RELU).biasInit(bias).build();
  }

  private static LocalResponseNormalization lrn() {
    return new LocalResponseNormalization.Builder().k(Paper.LRN_K).n(Paper.LRN_N).alpha(Paper.LRN_ALPHA).beta(Paper.LRN_BETA).build();
  }

  private static SubsamplingLayer maxPool() {
    return new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(3, 3).stride(2, 2).build();
  }
}
