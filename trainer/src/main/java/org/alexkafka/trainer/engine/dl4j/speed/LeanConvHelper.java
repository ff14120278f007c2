package org.alexkafka.trainer.engine.dl4j.speed;

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

import static org.alexkafka.trainer.engine.dl4j.speed.BatchChunks.images;
import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

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
 *
 * <p><b>No input gradient where nobody reads it</b> (CPU, see {@link #weightGradientOnly}): a
 * convolution that reads the network's input (conv1) gets only its weight and bias gradients, as
 * PyTorch does for a tensor that does not require grad. libnd4j's {@code conv2d_bp} always computes
 * the input gradient too, and for conv1's 3 input channels oneDNN pads it to 16 channels in a
 * blocked layout: conv1's backward pass took 4x its forward pass (3.5 ms against PyTorch's
 * 0.6 ms for the weights alone, small profile, batch 32, 2 cores). The weight-only path is 2.6x
 * faster there and 3x on the paper's conv1 (2.7 ms per image in chunks of 2, against 8.2 ms per
 * image for {@code conv2d_bp} in chunks of 28), with the same weight gradient bit for bit, and it
 * needs no input-gradient array (79 MB at batch 128).
 */
public final class LeanConvHelper implements ConvolutionHelper {
    /** Elements per backward chunk, of the larger of input and output gradient: 8M floats (32 MB), 28 images of conv1. */
    public static final long DEFAULT_CHUNK_ELEMENTS = 1L << 23;

    private final ConvolutionHelper delegate;
    private final AbstractLayer<?> layer;
    private final long maxChunkElements;
    private final boolean inputGradientNeeded;
    private long forwardConvolutions;
    private long chunkedBackwardPasses;
    private long weightOnlyBackwardPasses;
    private long prePaddedForwardPasses;
    private long paddedInputReuses;
    /** The last forward pass's input and its pre-padded copy (activations workspace), for the weight-only backward pass. */
    private INDArray recordedInput;
    private INDArray recordedPadded;

    public LeanConvHelper(ConvolutionHelper delegate, AbstractLayer<?> layer) {
        this(delegate, layer, DEFAULT_CHUNK_ELEMENTS);
    }

    /** @param maxChunkElements input or output elements per backward chunk on CPU; a chunk holds at least one image */
    public LeanConvHelper(ConvolutionHelper delegate, AbstractLayer<?> layer, long maxChunkElements) {
        this(delegate, layer, maxChunkElements, true);
    }

    /**
     * @param inputGradientNeeded false for a layer that reads the network's input: its backward pass then returns
     *     no input gradient (null, as DL4J's EmbeddingLayer does), which DL4J discards for an input anyway
     */
    public LeanConvHelper(ConvolutionHelper delegate, AbstractLayer<?> layer, long maxChunkElements, boolean inputGradientNeeded) {
        if (maxChunkElements < 1) {
            throw new IllegalArgumentException("maxChunkElements must be positive, got " + maxChunkElements);
        }
        this.delegate = delegate;
        this.layer = layer;
        this.maxChunkElements = maxChunkElements;
        this.inputGradientNeeded = inputGradientNeeded;
    }

    /** Whether the backward pass returns the gradient at the layer's input (false: weights and bias only). */
    public boolean inputGradientNeeded() {
        return inputGradientNeeded;
    }

    /** Backward passes that computed only the weight and bias gradients. */
    public long weightOnlyBackwardPasses() {
        return weightOnlyBackwardPasses;
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
        recordedInput = null;
        recordedPadded = null;
        forwardConvolutions++;
        if (delegate instanceof MKLDNNConvHelper && (pad[0] > 0 || pad[1] > 0) && convolutionMode != ConvolutionMode.Same
                && format == CNN2DFormat.NCHW && input.rank() == 4 && input.size(1) <= FEW_CHANNELS
                && dilation[0] == 1 && dilation[1] == 1 && input.dataType() == DataType.FLOAT) {
            prePaddedForwardPasses++;
            INDArray padded = prePadded(input, kernel, strides, pad, workspaceMgr);
            if (!inputGradientNeeded) {
                recordedInput = input;
                recordedPadded = padded;
            }
            return delegate.preOutput(padded, weights, bias, kernel, strides,
                    new int[] {0, 0}, mode, fwdAlgo, convolutionMode, dilation, format, workspaceMgr);
        }
        return delegate.preOutput(input, weights, bias, kernel, strides, pad, mode, fwdAlgo, convolutionMode, dilation,
                format, workspaceMgr);
    }

    /**
     * Input channels up to which a padded convolution gets its input padded first: oneDNN (libnd4j
     * M2.1) runs a padded convolution of 3 channels, conv1 of the small profile, on its gemm
     * kernel (3.7 ms, batch 32, 2 cores, AVX2), the same one on zero-padded input on its JIT kernel
     * (1.9 ms, plus 0.5-1.4 ms for the padding copy). Same sums, in another order: outputs agree to
     * 2e-5.
     */
    static final long FEW_CHANNELS = 4;

    /** Weight-only backward passes that read the forward pass's padded input instead of padding it again. */
    public long paddedInputReuses() {
        return paddedInputReuses;
    }

    /** Forward convolutions that ran on an input padded here first. */
    public long prePaddedForwardPasses() {
        return prePaddedForwardPasses;
    }

    /**
     * The input with the convolution's zero padding written around it, cut to the rows and
     * columns a truncating convolution reads (stride * (out - 1) + kernel).
     */
    private static INDArray prePadded(INDArray input, int[] kernel, int[] strides, int[] pad, LayerWorkspaceMgr workspaceMgr) {
        long h = input.size(2);
        long w = input.size(3);
        long outH = (h + 2L * pad[0] - kernel[0]) / strides[0] + 1;
        long outW = (w + 2L * pad[1] - kernel[1]) / strides[1] + 1;
        long paddedH = strides[0] * (outH - 1) + kernel[0];
        long paddedW = strides[1] * (outW - 1) + kernel[1];
        long usedH = Math.min(h, paddedH - pad[0]);
        long usedW = Math.min(w, paddedW - pad[1]);
        INDArray used = usedH == h && usedW == w ? input : input.get(all(), all(), interval(0, usedH), interval(0, usedW));
        // in the activations' workspace, as the convolution's own output: it is gone with the step
        INDArray padded = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, input.dataType(),
                new long[] {input.size(0), input.size(1), paddedH, paddedW}, 'c');
        INDArray paddings = Nd4j.createFromArray(new int[][] {{0, 0}, {0, 0},
                {pad[0], (int) (paddedH - pad[0] - usedH)}, {pad[1], (int) (paddedW - pad[1] - usedW)}});
        Nd4j.exec(DynamicCustomOp.builder("pad").addInputs(used, paddings).addOutputs(padded)
                .addIntegerArguments(0) // constant
                .addFloatingPointArguments(0.0)
                .build());
        return padded;
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
            boolean nativeNchwFloat = delegate instanceof MKLDNNConvHelper && convolutionMode != ConvolutionMode.Same
                    && format == CNN2DFormat.NCHW && bias != null && biasGradView != null
                    && input.dataType() == DataType.FLOAT && weights.dataType() == DataType.FLOAT;
            if (nativeNchwFloat && !inputGradientNeeded && dilation[0] == 1 && dilation[1] == 1) {
                return weightGradientOnly(input, weights, delta, kernel, strides, pad, biasGradView, weightGradView);
            }
            long chunk = chunkSize(input, delta);
            if (nativeNchwFloat && chunk < input.size(0)) {
                return backpropInChunks(input, weights, bias, delta, kernel, strides, pad, biasGradView, weightGradView,
                        dilation, workspaceMgr, chunk);
            }
            return delegate.backpropGradient(input, weights, bias, delta, kernel, strides, pad, biasGradView,
                    weightGradView, activation, mode, bwdFilterAlgo, bwdDataAlgo, convolutionMode, dilation, format,
                    workspaceMgr);
        } finally {
            layer.setPreOutput(null); // the output's workspace is recycled after this step
            recordedInput = null;
            recordedPadded = null;
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

    /**
     * The weight and bias gradients alone, through libnd4j's {@code deconv2d_bp} (oneDNN): the weight
     * gradient of a deconvolution whose input is this layer's output gradient and whose output is
     * this layer's input is this layer's weight gradient, computed by the same oneDNN
     * backward-weights kernel as {@code conv2d_bp}'s (the same numbers, bit for bit). What the
     * deconvolution computes besides, the gradient at its input, is a forward convolution of this
     * layer's input: a third of the cost of the input gradient it replaces. The input is copied
     * into a zero-padded scratch array sized so that the deconvolution needs no padding (libnd4j's
     * deconvolution output size has no room for the rows a truncating convolution leaves out),
     * unless the forward pass did that already (see {@link #preOutput}) and it fits one chunk.
     * Works a chunk of images at a time (smaller chunks than conv2d_bp's: per image no slower, and
     * the scratch stays small); the bias gradient is the sum of the output gradient over images and
     * positions.
     */
    private Pair<Gradient, INDArray> weightGradientOnly(INDArray input, INDArray weights, INDArray delta, int[] kernel,
                                                        int[] strides, int[] pad, INDArray biasGradView,
                                                        INDArray weightGradView) {
        weightOnlyBackwardPasses++;
        long batch = input.size(0);
        long channels = input.size(1);
        long outH = delta.size(2);
        long outW = delta.size(3);
        long paddedH = strides[0] * (outH - 1) + kernel[0];
        long paddedW = strides[1] * (outW - 1) + kernel[1];
        long usedH = Math.min(input.size(2), paddedH - pad[0]);
        long usedW = Math.min(input.size(3), paddedW - pad[1]);
        // Both scratch arrays together within an eighth of the chunk budget (1M floats, 4 MB, by default: the
        // whole batch of the small profile, 2 images of the paper's conv1, 2.7 ms per image against 2.3 for 4 and
        // 3.8 for 1). They live in the layer's working-memory workspace, on top of DL4J's whole-batch ReLU
        // gradient (149 MB at the paper's batch 128), and that workspace keeps its largest request for the whole
        // run: 4 images raised peak RSS by 6-12 MB. Arrays outside the workspaces keep their native memory until
        // a garbage collection, closed or not (ND4J M2.1): 2.4 MB more RSS per step at the small profile.
        long chunk = BatchChunks.imagesPerChunk(batch,
                channels * paddedH * paddedW + delta.length() / batch, Math.max(1, maxChunkElements / 8));
        if (chunk < batch) {
            chunkedBackwardPasses++;
        }
        INDArray discarded = Nd4j.createUninitialized(delta.dataType(), chunk, delta.size(1), outH, outW);
        INDArray forwardPadded = recordedInput == input ? recordedPadded : null;
        if (chunk == batch && forwardPadded != null
                && java.util.Arrays.equals(forwardPadded.shape(), new long[] {batch, channels, paddedH, paddedW})) {
            // the forward pass padded this very input the same way (the rows and columns a truncating convolution reads)
            paddedInputReuses++;
            deconvolutionWeightGradient(delta, weights, forwardPadded, kernel, strides, discarded, weightGradView);
        } else {
            INDArray padded = Nd4j.zeros(input.dataType(), chunk, channels, paddedH, paddedW);
            INDArray partialWeightGrad = chunk < batch ? Nd4j.createUninitialized(weightGradView.dataType(), weightGradView.shape()) : null;
            weightGradientInChunks(input, weights, delta, kernel, strides, pad, weightGradView, padded, discarded,
                    partialWeightGrad, usedH, usedW, chunk);
        }
        biasGradView.assign(delta.sum(0, 2, 3).reshape(biasGradView.shape()));
        Gradient gradient = new DefaultGradient();
        gradient.gradientForVariable().put(ConvolutionParamInitializer.BIAS_KEY, biasGradView);
        gradient.gradientForVariable().put(ConvolutionParamInitializer.WEIGHT_KEY, weightGradView);
        return new Pair<>(gradient, null);
    }

    private static void weightGradientInChunks(INDArray input, INDArray weights, INDArray delta, int[] kernel, int[] strides,
                                               int[] pad, INDArray weightGradView, INDArray padded, INDArray discarded,
                                               INDArray partialWeightGrad, long usedH, long usedW, long chunk) {
        long batch = input.size(0);
        for (long from = 0; from < batch; from += chunk) {
            long to = Math.min(batch, from + chunk);
            boolean first = from == 0;
            INDArray paddedChunk = images(padded, 0, to - from);
            paddedChunk.get(all(), all(), interval(pad[0], pad[0] + usedH), interval(pad[1], pad[1] + usedW))
                    .assign(images(input, from, to).get(all(), all(), interval(0, usedH), interval(0, usedW)));
            deconvolutionWeightGradient(images(delta, from, to), weights, paddedChunk, kernel, strides,
                    images(discarded, 0, to - from), first ? weightGradView : partialWeightGrad);
            if (!first) {
                weightGradView.addi(partialWeightGrad);
            }
        }
    }

    /** libnd4j's {@code deconv2d_bp}, whose weight gradient is this layer's: see {@link #weightGradientOnly}. */
    private static void deconvolutionWeightGradient(INDArray delta, INDArray weights, INDArray padded, int[] kernel,
                                                    int[] strides, INDArray discarded, INDArray weightGrad) {
        Nd4j.exec(DynamicCustomOp.builder("deconv2d_bp")
                .addInputs(delta, weights, padded)
                .addOutputs(discarded, weightGrad)
                .addIntegerArguments(kernel[0], kernel[1], strides[0], strides[1],
                        0, 0,  // no padding: it is in the padded input
                        1, 1,  // no dilation
                        0,     // explicit padding
                        0,     // NCHW
                        1)     // deconvolution weights [iC, oC, kH, kW] = this layer's [oC, iC, kH, kW]
                .build());
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
