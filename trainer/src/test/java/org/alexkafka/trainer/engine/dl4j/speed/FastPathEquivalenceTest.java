package org.alexkafka.trainer.engine.dl4j.speed;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.distribution.NormalDistribution;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.graph.SubsetVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.LocalResponseNormalization;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.AbstractLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInitDistribution;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Field;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The fast path (native conv/pool/LRN helpers, oneDNN when the build has it) against DL4J's
 * built-in Java path on the same weights and input: loss and every gradient array must agree
 * to a relative error under 1e-4 in float32, so a wrong fast op cannot hide behind speed.
 * The nets have AlexNet's layer sequence and constants at a small size (67 px, few channels),
 * without dropout: its masks are not reproducible between two nets and it is not on the fast path.
 */
class FastPathEquivalenceTest {
    private static final Logger log = LoggerFactory.getLogger(FastPathEquivalenceTest.class);
    static final int SIZE = 67; // 67, padded by 2 -> conv 11/4 -> 16 -> pool 3/2 -> 7 -> pool -> 3 -> pool -> 1
    static final int CLASSES = 10;
    static final int BATCH = 4;

    @BeforeAll
    static void nativeBuild() {
        log.info("{}", NativeBuildSelector.selectBeforeNd4jLoads().reason());
    }

    static NeuralNetConfiguration.Builder base() {
        return new NeuralNetConfiguration.Builder()
                .seed(7).dataType(DataType.FLOAT).updater(new Sgd(0.01)).l2(5e-4)
                .weightInit(new WeightInitDistribution(new NormalDistribution(0, 0.1)))
                .activation(Activation.RELU)
                .trainingWorkspaceMode(WorkspaceMode.ENABLED).inferenceWorkspaceMode(WorkspaceMode.ENABLED)
                .convolutionMode(ConvolutionMode.Truncate);
    }

    static ConvolutionLayer conv(int k, int stride, int pad, int nOut) {
        // no silent fallback to the built-in path: a failing helper must fail the test
        return new ConvolutionLayer.Builder(k, k).stride(stride, stride).padding(pad, pad).nOut(nOut)
                .cudnnAllowFallback(false).build();
    }

    static ConvolutionLayer groupConv(int k, int stride, int pad, int nIn, int nOut) {
        return new ConvolutionLayer.Builder(k, k).stride(stride, stride).padding(pad, pad).nIn(nIn).nOut(nOut)
                .cudnnAllowFallback(false).build();
    }

    static LocalResponseNormalization lrn() {
        return new LocalResponseNormalization.Builder(2, 5, 1e-4, 0.75).cudnnAllowFallback(false).build();
    }

    static SubsamplingLayer pool() {
        return new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(3, 3).stride(2, 2)
                .cudnnAllowFallback(false).build();
    }

    static MultiLayerNetwork smallAlexNet() {
        var conf = base().list()
                .layer(conv(11, 4, 2, 8)).layer(lrn()).layer(pool()) // padded like the small profile's conv1
                .layer(conv(5, 1, 2, 16)).layer(lrn()).layer(pool())
                .layer(conv(3, 1, 1, 24)).layer(conv(3, 1, 1, 24)).layer(conv(3, 1, 1, 16)).layer(pool())
                .layer(new DenseLayer.Builder().nOut(32).build())
                .layer(new DenseLayer.Builder().nOut(32).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(CLASSES)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(SIZE, SIZE, 3))
                .build();
        var net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    /**
     * conv2 in two groups as in the paper's two-GPU net: each half sees half of conv1's maps.
     * Sizes are given, not inferred: M2.1's SubsetVertex reports 0 channels for a CNN input type.
     */
    static ComputationGraph smallGroupedAlexNet() {
        var conf = base().graphBuilder().addInputs("in")
                .addLayer("conv1", groupConv(11, 4, 0, 3, 8), "in").addLayer("lrn1", lrn(), "conv1").addLayer("pool1", pool(), "lrn1")
                .addVertex("g0", new SubsetVertex(0, 3), "pool1").addVertex("g1", new SubsetVertex(4, 7), "pool1")
                .addLayer("conv2a", groupConv(5, 1, 2, 4, 8), "g0").addLayer("conv2b", groupConv(5, 1, 2, 4, 8), "g1")
                .addVertex("conv2", new MergeVertex(), "conv2a", "conv2b")
                .addLayer("lrn2", lrn(), "conv2").addLayer("pool2", pool(), "lrn2")
                .addLayer("conv3", groupConv(3, 1, 1, 16, 16), "pool2").addLayer("pool3", pool(), "conv3")
                .addLayer("fc6", new DenseLayer.Builder().nIn(16).nOut(32).build(), "pool3")
                .inputPreProcessor("fc6", new CnnToFeedForwardPreProcessor(1, 1, 16))
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(CLASSES)
                        .activation(Activation.SOFTMAX).nIn(32).build(), "fc6")
                .setOutputs("out")
                .build();
        var graph = new ComputationGraph(conf);
        graph.init();
        return graph;
    }

    static INDArray input() {
        return Nd4j.rand(DataType.FLOAT, BATCH, 3, SIZE, SIZE).muli(255).subi(120);
    }

    static INDArray labels() {
        INDArray y = Nd4j.zeros(DataType.FLOAT, BATCH, CLASSES);
        for (int i = 0; i < BATCH; i++) {
            y.putScalar(i, (i * 3) % CLASSES, 1f);
        }
        return y;
    }

    /** Loss and gradient of one training step. */
    static double lossAndGradient(Model model, INDArray x, INDArray y, Map<String, INDArray> gradOut) {
        if (model instanceof MultiLayerNetwork net) {
            net.setInput(x);
            net.setLabels(y);
            net.computeGradientAndScore();
        } else {
            ComputationGraph graph = (ComputationGraph) model;
            graph.setInputs(x);
            graph.setLabels(y);
            graph.computeGradientAndScore();
        }
        model.gradient().gradientForVariable().forEach((k, v) -> gradOut.put(k, v.dup()));
        return model.score();
    }

    /**
     * The straightforward path: DL4J's built-in convolution and pooling, and LRN written out
     * channel by channel ({@link ReferenceLrnHelper}; DL4J's built-in LRN backward is off).
     */
    static Layer[] layersOf(Model model) {
        return model instanceof MultiLayerNetwork n ? n.getLayers() : ((ComputationGraph) model).getLayers();
    }

    static Layer layerNamed(Model model, String name) {
        return model instanceof MultiLayerNetwork n ? n.getLayer(name) : ((ComputationGraph) model).getLayer(name);
    }

    static void useReferencePath(Model model) {
        Layer[] layers = layersOf(model);
        LayerHelpers.disable(layers);
        for (Layer layer : layers) {
            if (layer instanceof org.deeplearning4j.nn.layers.normalization.LocalResponseNormalization) {
                LayerHelpers.replaceHelper(layer, new ReferenceLrnHelper());
            }
        }
    }

    static void assertSameLossAndGradients(Model reference, Model fast) {
        INDArray x = input();
        INDArray y = labels();
        var gRef = new java.util.TreeMap<String, INDArray>();
        var gFast = new java.util.TreeMap<String, INDArray>();
        double lossRef = lossAndGradient(reference, x, y, gRef);
        double lossFast = lossAndGradient(fast, x, y, gFast);
        log.info("loss reference={} fast={}", lossRef, lossFast);
        assertThat(Math.abs(lossFast - lossRef) / Math.abs(lossRef)).isLessThan(1e-4);
        assertThat(gFast.keySet()).isEqualTo(gRef.keySet());
        for (String k : gRef.keySet()) {
            INDArray a = gRef.get(k);
            INDArray b = gFast.get(k);
            double norm = a.norm2Number().doubleValue();
            assertThat(norm).as("gradient %s is zero: nothing compared", k).isGreaterThan(0);
            double rel = a.sub(b).norm2Number().doubleValue() / norm;
            log.info("gradient {} relative error {}", k, rel);
            assertThat(rel).as("relative error of gradient %s", k).isLessThan(1e-4);
        }
        assertNoHelperFailed(fast);
    }

    /** DL4J silently switches a layer back to its built-in path after a helper failure. */
    static void assertNoHelperFailed(Model model) {
        assertThat(LayerHelpers.fallbacks(model)).isZero();
        Layer[] layers = layersOf(model);
        for (Layer layer : layers) {
            if (layer.getHelper() != null) {
                assertThat(helperFailures(layer)).as("helper failures of layer %s", layer.getIndex()).isZero();
            }
        }
    }

    static int helperFailures(Layer layer) {
        for (Class<?> c = layer.getClass(); c != null; c = c.getSuperclass()) {
            try {
                Field f = c.getDeclaredField("helperCountFail");
                f.setAccessible(true);
                return f.getInt(layer);
            } catch (NoSuchFieldException e) {
                // keep looking in the superclass
            } catch (IllegalAccessException e) {
                throw new IllegalStateException(e);
            }
        }
        throw new IllegalStateException("no helperCountFail in " + layer.getClass());
    }

    @Test
    void multiLayerNetworkFastPathEqualsBuiltInPath() {
        MultiLayerNetwork reference = smallAlexNet();
        MultiLayerNetwork fast = smallAlexNet();
        fast.setParams(reference.params().dup());
        useReferencePath(reference);

        LayerHelpers.Result r = LayerHelpers.enable(fast);
        log.info("fast path: {}", r);
        assertThat(r.candidates()).isEqualTo(10); // 5 conv + 2 LRN + 3 pooling
        assertThat(r.helpers()).isEqualTo(r.candidates());
        assertThat(r.kind()).isIn(LayerHelpers.Kind.ONEDNN, LayerHelpers.Kind.ND4J_NATIVE_OPS);
        if (NativeBuildSelector.onClassPath(NativeBuild.ONEDNN_AVX2) && NativeBuild.ONEDNN_AVX2.runsOn(NativeBuildSelector.cpuFlags())
                && !"".equals(System.getProperty(NativeBuildSelector.EXTENSION_PROPERTY))) {
            assertThat(r.kind()).as("oneDNN build on the class path and runnable here").isEqualTo(LayerHelpers.Kind.ONEDNN);
        }
        assertThat(reference.getLayer(0).getHelper()).isNull();
        assertThat(reference.getLayer(1).getHelper()).isInstanceOf(ReferenceLrnHelper.class);
        assertThat(fast.getLayer(1).getHelper()).isInstanceOf(ChannelLrnHelper.class);

        assertSameLossAndGradients(reference, fast);
        assertEachLrnReusedItsOutput(fast, 2);
        assertEachReluDenseLayerReusedItsOutput(fast, 2);
        assertEachConvolutionRanForwardOnce(fast);
        assertOnlyFirstConvolutionSkippedItsInputGradient(fast, 1);
        assertEachMaxPoolRanNatively(fast, 3);
        // conv1's 3 padded channels went through the pre-padded input, the wider layers did not
        assertThat(((LeanConvHelper) fast.getLayer(0).getHelper()).prePaddedForwardPasses()).isEqualTo(1);
        assertThat(((LeanConvHelper) fast.getLayer(0).getHelper()).paddedInputReuses())
                .as("its weight gradient read the forward pass's padded input").isEqualTo(1);
        assertThat(((LeanConvHelper) fast.getLayer(3).getHelper()).prePaddedForwardPasses()).isZero();
    }

    /** Every fully connected ReLU layer was swapped for one whose backward pass reused its output, found by name too. */
    static void assertEachReluDenseLayerReusedItsOutput(Model model, int denseLayers) {
        Layer[] layers = layersOf(model);
        int seen = 0;
        for (Layer layer : layers) {
            assertThat(layer.getClass()).isNotEqualTo(org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer.class);
            if (layer instanceof OutputReusingDenseLayer dense) {
                String name = layer.conf().getLayer().getLayerName();
                assertThat(dense.reusedOutputs()).as(name).isEqualTo(1);
                Layer byName = layerNamed(model, name);
                assertThat(byName).isSameAs(layer);
                seen++;
            }
        }
        assertThat(seen).isEqualTo(denseLayers);
    }

    /** Every LRN layer's backward pass worked from its forward pass's output (its input is a ReLU's). */
    static void assertEachLrnReusedItsOutput(Model model, int lrnLayers) {
        Layer[] layers = layersOf(model);
        int seen = 0;
        for (Layer layer : layers) {
            if (layer.getHelper() instanceof ChannelLrnHelper lrn) {
                assertThat(lrn.outputReusingBackwardPasses()).as(layer.conf().getLayer().getLayerName()).isEqualTo(1);
                seen++;
            }
        }
        assertThat(seen).isEqualTo(lrnLayers);
    }

    /**
     * Every pooling layer ran libnd4j's own max pooling, once forward and once backward, and the
     * network finds the swapped-in layer by name as well as by index.
     */
    static void assertEachMaxPoolRanNatively(Model model, int poolingLayers) {
        Layer[] layers = layersOf(model);
        int pools = 0;
        for (Layer layer : layers) {
            if (layer instanceof org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer) {
                assertThat(layer).isInstanceOf(NativeSubsamplingLayer.class);
                String name = layer.conf().getLayer().getLayerName();
                Layer byName = layerNamed(model, name);
                assertThat(byName).as("layer %s by name", name).isSameAs(layer);
                assertThat(layer.getHelper()).isInstanceOf(NativeMaxPoolHelper.class);
                var helper = (NativeMaxPoolHelper) layer.getHelper();
                assertThat(helper.forwardPasses()).as("forward passes of layer %s", layer.getIndex()).isEqualTo(1);
                assertThat(helper.backwardPasses()).as("backward passes of layer %s", layer.getIndex()).isEqualTo(1);
                pools++;
            }
        }
        assertThat(pools).isEqualTo(poolingLayers);
    }

    /**
     * The convolutions that read the network's input (conv1; both halves of a two-tower conv1)
     * computed weight and bias gradients only; every other convolution its input gradient too.
     */
    static void assertOnlyFirstConvolutionSkippedItsInputGradient(Model model, int firstLayers) {
        Layer[] layers = layersOf(model);
        int skipped = 0;
        for (Layer layer : layers) {
            if (layer.getHelper() instanceof LeanConvHelper helper) {
                String name = layer.conf().getLayer().getLayerName();
                boolean first = name != null && name.startsWith("conv") ? name.startsWith("conv1") : layer.getIndex() == 0;
                assertThat(helper.inputGradientNeeded()).as("input gradient of layer %s", layer.getIndex()).isEqualTo(!first);
                assertThat(helper.weightOnlyBackwardPasses()).as("weight-only backward passes of layer %s", layer.getIndex())
                        .isEqualTo(first ? 1 : 0);
                skipped += first ? 1 : 0;
            }
        }
        assertThat(skipped).isEqualTo(firstLayers);
    }

    /**
     * Every conv layer of the fast path ran its convolution forward once in the training step just
     * taken: the backward pass took ReLU's derivative from the stored output (DL4J alone runs it twice).
     */
    static void assertEachConvolutionRanForwardOnce(Model model) {
        Layer[] layers = layersOf(model);
        int convolutions = 0;
        for (Layer layer : layers) {
            if (layer.getHelper() instanceof LeanConvHelper helper) {
                assertThat(helper.forwardConvolutions()).as("forward convolutions of layer %s", layer.getIndex()).isEqualTo(1);
                convolutions++;
            }
        }
        assertThat(convolutions).isPositive();
    }

    /**
     * Budgets small enough that LRN and the convolutions' backward passes run in chunks of images,
     * with a shorter last chunk (batch 4 in chunks of 3 or fewer): chunking must not change a number.
     */
    @Test
    void chunkedLrnAndConvolutionBackwardEqualBuiltInPath() {
        chunkedLrnAndConvolutionBackwardEqualBuiltInPath(false);
    }

    /** The same with conv1 computing its input gradient too: conv2d_bp in chunks ({@code backpropInChunks}). */
    @Test
    void chunkedConvolutionBackwardWithInputGradientEqualsBuiltInPath() {
        chunkedLrnAndConvolutionBackwardEqualBuiltInPath(true);
    }

    void chunkedLrnAndConvolutionBackwardEqualBuiltInPath(boolean conv1InputGradient) {
        MultiLayerNetwork reference = smallAlexNet();
        MultiLayerNetwork fast = smallAlexNet();
        fast.setParams(reference.params().dup());
        useReferencePath(reference);
        LayerHelpers.enable(fast);
        int chunked = 0;
        for (Layer layer : fast.getLayers()) {
            if (layer.getHelper() instanceof LeanConvHelper conv) {
                // conv1's input is 3 x 67 x 67 = 13467 per image: conv2d_bp in chunks of 3 and 1 images; its
                // weight-only path (scratch 13467 + 1800 per image, an eighth of the budget) one image at a time;
                // later layers in one piece
                LayerHelpers.replaceHelper(layer, new LeanConvHelper(conv.delegate(), (AbstractLayer<?>) layer, 45_000,
                        conv.inputGradientNeeded() || conv1InputGradient));
                chunked++;
            } else if (layer.getHelper() instanceof ChannelLrnHelper lrn) {
                // LRN1 8 x 15 x 15 = 1800 per image, LRN2 16 x 7 x 7 = 784: chunks of 1 image, and of 3 and 1
                assertThat(lrn.inputFromRelu()).as("fed by conv1 and conv2's ReLU").isTrue();
                LayerHelpers.replaceHelper(layer, new ChannelLrnHelper(3000, lrn.inputFromRelu()));
                chunked++;
            }
        }
        assertThat(chunked).isEqualTo(7);
        assertSameLossAndGradients(reference, fast);
        assertEachLrnReusedItsOutput(fast, 2);
        assertEachConvolutionRanForwardOnce(fast);
        var conv1 = (LeanConvHelper) fast.getLayer(0).getHelper();
        assertThat(conv1.chunkedBackwardPasses()).as("conv1's backward pass ran in chunks").isEqualTo(1);
        assertThat(conv1.weightOnlyBackwardPasses()).isEqualTo(conv1InputGradient ? 0 : 1);
        assertThat(conv1.paddedInputReuses()).as("chunks of images pad their own copies").isZero();
        assertThat(((LeanConvHelper) fast.getLayer(3).getHelper()).chunkedBackwardPasses()).isZero();
    }

    /** Helpers switched off again: the swapped-in dense layers run DL4J's own backward pass, recomputation included. */
    @Test
    void disablingTheFastPathAlsoStopsTheDenseLayersReusingTheirOutput() {
        MultiLayerNetwork reference = smallAlexNet();
        MultiLayerNetwork fast = smallAlexNet();
        fast.setParams(reference.params().dup());
        useReferencePath(reference);
        LayerHelpers.enable(fast);
        useReferencePath(fast);
        assertSameLossAndGradients(reference, fast);
        long reused = 0;
        int dense = 0;
        for (Layer layer : fast.getLayers()) {
            if (layer instanceof OutputReusingDenseLayer d) {
                reused += d.reusedOutputs();
                dense++;
            }
        }
        assertThat(dense).isEqualTo(2);
        assertThat(reused).isZero();
    }

    @Test
    void groupedConvolutionGraphFastPathEqualsBuiltInPath() {
        ComputationGraph reference = smallGroupedAlexNet();
        ComputationGraph fast = smallGroupedAlexNet();
        fast.setParams(reference.params().dup());
        useReferencePath(reference);

        LayerHelpers.Result r = LayerHelpers.enable(fast);
        assertThat(r.candidates()).isEqualTo(9); // conv1, conv2a, conv2b, conv3, 2 LRN, 3 pooling
        assertThat(r.helpers()).isEqualTo(r.candidates());

        assertSameLossAndGradients(reference, fast);
        assertEachConvolutionRanForwardOnce(fast);
        assertOnlyFirstConvolutionSkippedItsInputGradient(fast, 1);
        assertEachMaxPoolRanNatively(fast, 3);
        assertEachLrnReusedItsOutput(fast, 2);
        assertEachReluDenseLayerReusedItsOutput(fast, 1);
    }

    @Test
    void helpersSurviveNothingTheyAreReappliedAfterClone() {
        MultiLayerNetwork fast = smallAlexNet();
        LayerHelpers.enable(fast);
        MultiLayerNetwork copy = fast.clone();
        // clone() builds new layers: they come without helpers, hence "call enable after every clone/restore"
        assertThat(copy.getLayer(0).getHelper()).isNull();
        assertThat(LayerHelpers.enable(copy).helpers()).isEqualTo(10);
        assertThat(copy.getLayer(0).getHelper()).isNotNull();
    }
}
