package org.alexkafka.trainer.engine.dl4j.speed;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingHelper;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.ConvolutionUtils;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.CustomOp;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Collections;
import java.util.Map;

/**
 * Max pooling (NCHW, any float type) by libnd4j's own {@code maxpool2d} and {@code maxpool2d_bp}
 * kernels, with the native platform helpers (oneDNN) switched off for these two ops only, through
 * their op context: the rest of the process keeps oneDNN.
 *
 * <p>Why not oneDNN: for plain NCHW data the oneDNN in libnd4j M2.1 runs its generic
 * {@code simple_nchw} pooling, one {@code std::function} call per output element, and
 * {@code maxpool2d_bp} runs the forward pass a second time to rebuild oneDNN's workspace. Measured on
 * 2 cores (AVX2), forward and backward of AlexNet's 3x3/2 pooling: paper pool1 (128x96x55x55)
 * 300-380 and 450-530 ms on oneDNN, 35 and 145 ms here; small-profile pool1 (32x24x15x15)
 * 1.9-3.7 and 2.8-3.1 ms, against 0.3-0.4 and 1.0-1.2 ms. Both pick the first maximum of a window
 * (as PyTorch does), so outputs and gradients are the same numbers.
 *
 * <p>Average pooling, other layouts and the others return null: the layer then runs DL4J's
 * built-in path.
 */
public final class NativeMaxPoolHelper implements SubsamplingHelper {
    private long forwardPasses;
    private long backwardPasses;

    @Override
    public boolean checkSupported() {
        return true;
    }

    /** Forward passes this helper ran (DL4J's built-in path ran the others). */
    public long forwardPasses() {
        return forwardPasses;
    }

    /** Backward passes this helper ran. */
    public long backwardPasses() {
        return backwardPasses;
    }

    private static boolean handles(PoolingType type, CNN2DFormat format, INDArray input) {
        return type == PoolingType.MAX && format == CNN2DFormat.NCHW && input.rank() == 4 && input.dataType().isFPType();
    }

    @Override
    public INDArray activate(INDArray input, boolean training, int[] kernel, int[] strides, int[] pad,
                             PoolingType poolingType, ConvolutionMode convolutionMode, int[] dilation,
                             CNN2DFormat format, LayerWorkspaceMgr workspaceMgr) {
        if (!handles(poolingType, format, input)) {
            return null;
        }
        int[] outSize = ConvolutionUtils.getOutputSize(input, kernel, strides,
                convolutionMode == ConvolutionMode.Same ? null : pad, convolutionMode, dilation, format);
        int[] padding = padding(input, outSize, kernel, strides, pad, convolutionMode, dilation);
        INDArray output = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, input.dataType(),
                new long[] {input.size(0), input.size(1), outSize[0], outSize[1]}, 'c');
        run("maxpool2d", arguments(kernel, strides, padding, dilation, convolutionMode), output, contiguous(input));
        forwardPasses++;
        return output;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray input, INDArray epsilon, int[] kernel, int[] strides,
                                                     int[] pad, PoolingType poolingType, ConvolutionMode convolutionMode,
                                                     int[] dilation, CNN2DFormat format, LayerWorkspaceMgr workspaceMgr) {
        if (!handles(poolingType, format, input)) {
            return null;
        }
        int[] outSize = {(int) epsilon.size(2), (int) epsilon.size(3)};
        int[] padding = padding(input, outSize, kernel, strides, pad, convolutionMode, dilation);
        // the kernel zeroes its output before summing into it (windows overlap), so uninitialised is fine
        INDArray gradAtInput = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, input.dataType(), input.shape(), 'c');
        run("maxpool2d_bp", arguments(kernel, strides, padding, dilation, convolutionMode), gradAtInput,
                contiguous(input), contiguous(epsilon));
        backwardPasses++;
        return new Pair<>(new DefaultGradient(), gradAtInput);
    }

    private static int[] padding(INDArray input, int[] outSize, int[] kernel, int[] strides, int[] pad,
                                 ConvolutionMode mode, int[] dilation) {
        if (mode != ConvolutionMode.Same) {
            return pad;
        }
        return ConvolutionUtils.getSameModeTopLeftPadding(outSize, new int[] {(int) input.size(2), (int) input.size(3)},
                kernel, strides, dilation);
    }

    /** libnd4j's order: kH, kW, sH, sW, pH, pW, dH, dW, same mode, extra (unused for max), NHWC. */
    private static long[] arguments(int[] kernel, int[] strides, int[] pad, int[] dilation, ConvolutionMode mode) {
        return new long[] {kernel[0], kernel[1], strides[0], strides[1], pad[0], pad[1], dilation[0], dilation[1],
                mode == ConvolutionMode.Same ? 1 : 0, 0, 0};
    }

    private static INDArray contiguous(INDArray a) {
        return a.ordering() == 'c' && !a.isView() ? a : a.dup('c');
    }

    private static void run(String opName, long[] iArgs, INDArray output, INDArray... inputs) {
        CustomOp op = DynamicCustomOp.builder(opName).build();
        try (OpContext ctx = Nd4j.getExecutioner().buildContext()) {
            ctx.allowHelpers(false); // libnd4j's own kernel, not the oneDNN platform helper
            ctx.setIArguments(iArgs);
            ctx.setInputArrays(inputs);
            ctx.setOutputArrays(output);
            Nd4j.exec(op, ctx);
        } catch (Exception e) {
            if (e instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(opName + " failed", e);
        }
    }

    @Override
    public Map<String, Long> helperMemoryUse() {
        return Collections.emptyMap();
    }
}
