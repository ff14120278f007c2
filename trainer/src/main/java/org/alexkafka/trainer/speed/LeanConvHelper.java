package org.alexkafka.trainer.speed;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.AlgoMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.BwdDataAlgo;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.BwdFilterAlgo;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.FwdAlgo;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.AbstractLayer;
import org.deeplearning4j.nn.layers.convolution.ConvolutionHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;

import static org.alexkafka.trainer.speed.BatchChunks.images;

/**
 * Wraps a convolution layer's native helper to spare DL4J's backward pass a second forward
 * convolution and, on CPU, most of its short-lived memory.
 *
 * <p><b>No recomputation.</b> DL4J M2.1's {@code ConvolutionLayer.backpropGradient} recomputes the
 * pre-activation {@code z} only to feed it to {@code ActivationReLU.backprop}, which needs no more
 * than where {@code z > 0}. That is exactly where the output {@code relu(z)} is {@code > 0}, and
 * the output is still held in the activations workspace during the backward pass (it is the next
 * layer's input). The layer skips its recomputation when its {@code preOutput} field is set (the
 * branch DL4J uses for {@code CacheMode}), so this helper points that field at the output after
 * each training forward pass and clears it before every forward convolution and after every
 * backward pass: the backward pass never sees a stale array, and falls back to DL4J's
 * recomputation whenever the output was not recorded. Saves one convolution per conv layer and
 * step (5 of 15) and an activation-sized array of working memory (149 MB for conv1 at batch 128).
 *
 * <p><b>Backward pass in chunks of images</b> (CPU, see {@link #backpropInChunks}).
 */
public final class LeanConvHelper implements ConvolutionHelper {
    /** Elements per backward chunk, of the larger of input and output gradient: 8M floats (32 MB), 28 images of conv1. */
    public static final long DEFAULT_CHUNK_ELEMENTS = 1L << 23;

    private final ConvolutionHelper delegate;
    private final AbstractLayer<?> layer;
    private final long maxChunkElements;
    private long forwardConvolutions;
    private long chunkedBackwardPasses;

    public LeanConvHelper(ConvolutionHelper delegate, AbstractLayer<?> layer) {
        this(delegate, layer, DEFAULT_CHUNK_ELEMENTS);
    }

    /** @param maxChunkElements input or output elements per backward chunk on CPU; a chunk holds at least one image */
    public LeanConvHelper(ConvolutionHelper delegate, AbstractLayer<?> layer, long maxChunkElements) {
        if (maxChunkElements < 1) {
            throw new IllegalArgumentException("maxChunkElements must be positive, got " + maxChunkElements);
        }
        this.delegate = delegate;
        this.layer = layer;
        this.maxChunkElements = maxChunkElements;
    }

    public ConvolutionHelper delegate() {
        return delegate;
    }

    /** Convolutions run forward so far: one per training step when the output is reused, two otherwise. */
    public long forwardConvolutions() {
        return forwardConvolutions;
    }

    /** Backward passes run in chunks of images (the others ran in one piece). */
    public long chunkedBackwardPasses() {
        return chunkedBackwardPasses;
    }

    /** Plain ReLU: its derivative is 1 exactly where its output is positive. */
    static boolean derivativeFollowsFromOutput(IActivation activation) {
        return activation instanceof ActivationReLU relu
                && relu.getMax() == null && relu.getThreshold() == null && relu.getNegativeSlope() == null;
    }

    @Override
    public INDArray preOutput(INDArray input, INDArray weights, INDArray bias, int[] kernel, int[] strides, int[] pad,
                              AlgoMode mode, FwdAlgo fwdAlgo, ConvolutionMode convolutionMode, int[] dilation,
                              CNN2DFormat format, LayerWorkspaceMgr workspaceMgr) {
        layer.setPreOutput(null);
        forwardConvolutions++;
        return delegate.preOutput(input, weights, bias, kernel, strides, pad, mode, fwdAlgo, convolutionMode, dilation,
                format, workspaceMgr);
    }

    @Override
    public INDArray activate(INDArray z, IActivation activation, boolean training) {
        INDArray out = delegate.activate(z, activation, training);
        if (out != null && training && derivativeFollowsFromOutput(activation)) {
            layer.setPreOutput(out);
        }
        return out;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray input, INDArray weights, INDArray bias, INDArray delta,
                                                     int[] kernel, int[] strides, int[] pad, INDArray biasGradView,
                                                     INDArray weightGradView, IActivation activation, AlgoMode mode,
                                                     BwdFilterAlgo bwdFilterAlgo, BwdDataAlgo bwdDataAlgo,
                                                     ConvolutionMode convolutionMode, int[] dilation, CNN2DFormat format,
                                                     LayerWorkspaceMgr workspaceMgr) {
        try {
            long chunk = chunkSize(input, delta);
            if (delegate instanceof MKLDNNConvHelper && chunk < input.size(0) && convolutionMode != ConvolutionMode.Same
                    && format == CNN2DFormat.NCHW && bias != null && biasGradView != null
                    && input.dataType() == DataType.FLOAT && weights.dataType() == DataType.FLOAT) {
                return backpropInChunks(input, weights, bias, delta, kernel, strides, pad, biasGradView, weightGradView,
                        dilation, workspaceMgr, chunk);
            }
            return delegate.backpropGradient(input, weights, bias, delta, kernel, strides, pad, biasGradView,
                    weightGradView, activation, mode, bwdFilterAlgo, bwdDataAlgo, convolutionMode, dilation, format,
                    workspaceMgr);
        } finally {
            layer.setPreOutput(null); // the output's workspace is recycled after this step
        }
    }

    /** Images per backward chunk: the larger of an image's input and output gradient fits the budget. */
    long chunkSize(INDArray input, INDArray delta) {
        long batch = input.size(0);
        return BatchChunks.imagesPerChunk(batch, Math.max(input.length(), delta.length()) / batch, maxChunkElements);
    }

    /**
     * libnd4j's {@code conv2d_bp} (what {@link MKLDNNConvHelper} runs, with its arguments) on a few
     * images at a time, summing the weight and bias gradients over the chunks. One call on the whole
     * batch makes oneDNN reorder every array it touches into its blocked layout at once: about 300 MB
     * of short-lived buffers for conv1 at batch 128, the largest allocation peak of a training step.
     */
    private Pair<Gradient, INDArray> backpropInChunks(INDArray input, INDArray weights, INDArray bias, INDArray delta,
                                                      int[] kernel, int[] strides, int[] pad, INDArray biasGradView,
                                                      INDArray weightGradView, int[] dilation,
                                                      LayerWorkspaceMgr workspaceMgr, long chunk) {
        chunkedBackwardPasses++;
        long batch = input.size(0);
        INDArray gradAtInput = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, input.dataType(), input.shape());
        INDArray partialWeightGrad = Nd4j.createUninitialized(weightGradView.dataType(), weightGradView.shape());
        INDArray partialBiasGrad = Nd4j.createUninitialized(biasGradView.dataType(), biasGradView.shape());
        for (long from = 0; from < batch; from += chunk) {
            long to = Math.min(batch, from + chunk);
            boolean first = from == 0;
            Nd4j.exec(DynamicCustomOp.builder("conv2d_bp")
                    .addInputs(images(input, from, to), weights, bias, images(delta, from, to))
                    .addOutputs(images(gradAtInput, from, to), first ? weightGradView : partialWeightGrad,
                            first ? biasGradView : partialBiasGrad)
                    .addIntegerArguments(kernel[0], kernel[1], strides[0], strides[1], pad[0], pad[1],
                            dilation[0], dilation[1],
                            0,  // explicit padding (Truncate)
                            0,  // NCHW
                            1)  // weights as DL4J keeps them: [oC, iC, kH, kW]
                    .build());
            if (!first) {
                weightGradView.addi(partialWeightGrad);
                biasGradView.addi(partialBiasGrad);
            }
        }
        Gradient gradient = new DefaultGradient();
        gradient.gradientForVariable().put(ConvolutionParamInitializer.BIAS_KEY, biasGradView);
        gradient.gradientForVariable().put(ConvolutionParamInitializer.WEIGHT_KEY, weightGradView);
        return new Pair<>(gradient, gradAtInput);
    }

    @Override
    public boolean checkSupported() {
        return delegate.checkSupported();
    }

    @Override
    public Map<String, Long> helperMemoryUse() {
        return delegate.helperMemoryUse();
    }
}
