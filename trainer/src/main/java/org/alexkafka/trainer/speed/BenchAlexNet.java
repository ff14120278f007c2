package org.alexkafka.trainer.speed;

import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.distribution.NormalDistribution;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.LocalResponseNormalization;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.weights.WeightInitDistribution;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The paper's one-tower AlexNet as a plain DL4J configuration, for the speed bench only (the
 * trainer's model factory replaces it there once it exists). 227x227x3 input: 11x11/4 conv gives
 * 55x55, as the paper's figures require. LRN (k=2, n=5, alpha=1e-4, beta=0.75) before the 3x3/2
 * overlapping max pooling after conv1 and conv2; dropout 0.5 on the inputs of fc7 and fc8 (DL4J's
 * dropOut is a retain probability applied to the layer input). The updater is DL4J's Nesterovs
 * momentum 0.9 with L2 5e-4: the same work per step as the paper's classic momentum.
 */
public final class BenchAlexNet {
    public static final int INPUT = 227;

    private BenchAlexNet() {
    }

    /** Layer widths; {@link #PAPER} is the real thing, {@link #tiny} a cheap stand-in for tests. */
    public record Widths(int input, int conv1, int conv2, int conv3, int fc, int classes) {
    }

    public static final Widths PAPER = new Widths(INPUT, 96, 256, 384, 4096, 1000);

    public static MultiLayerConfiguration config(Widths w) {
        return new NeuralNetConfiguration.Builder()
                .seed(42)
                .dataType(DataType.FLOAT)
                .updater(new Nesterovs(0.01, 0.9))
                .l2(5e-4)
                .weightInit(new WeightInitDistribution(new NormalDistribution(0, 0.01)))
                .activation(Activation.RELU)
                .trainingWorkspaceMode(WorkspaceMode.ENABLED)
                .inferenceWorkspaceMode(WorkspaceMode.ENABLED)
                .convolutionMode(ConvolutionMode.Truncate)
                .list()
                .layer(new ConvolutionLayer.Builder(11, 11).stride(4, 4).nOut(w.conv1()).biasInit(0).build())
                .layer(lrn())
                .layer(maxPool())
                .layer(new ConvolutionLayer.Builder(5, 5).padding(2, 2).nOut(w.conv2()).biasInit(1).build())
                .layer(lrn())
                .layer(maxPool())
                .layer(new ConvolutionLayer.Builder(3, 3).padding(1, 1).nOut(w.conv3()).biasInit(0).build())
                .layer(new ConvolutionLayer.Builder(3, 3).padding(1, 1).nOut(w.conv3()).biasInit(1).build())
                .layer(new ConvolutionLayer.Builder(3, 3).padding(1, 1).nOut(w.conv2()).biasInit(1).build())
                .layer(maxPool())
                .layer(new DenseLayer.Builder().nOut(w.fc()).biasInit(1).build())
                .layer(new DenseLayer.Builder().nOut(w.fc()).biasInit(1).dropOut(0.5).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(w.classes())
                        .activation(Activation.SOFTMAX).biasInit(0).dropOut(0.5).build())
                .setInputType(InputType.convolutional(w.input(), w.input(), 3))
                .build();
    }

    private static LocalResponseNormalization lrn() {
        return new LocalResponseNormalization.Builder(2, 5, 1e-4, 0.75).build();
    }

    private static SubsamplingLayer maxPool() {
        return new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(3, 3).stride(2, 2).build();
    }
}
