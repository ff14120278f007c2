package org.alexkafka.trainer.engine.dl4j.speed;

import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.normalization.LocalResponseNormalizationHelper;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.scalar.Pow;
import org.nd4j.linalg.factory.Nd4j;

import java.util.HashMap;
import java.util.Map;

import static org.alexkafka.trainer.engine.dl4j.speed.BatchChunks.images;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

/**
 * LRN across channels for DL4J's NCHW {@code LocalResponseNormalization} layer:
 * {@code b = a / (k + alpha * sum a^2)^beta} over the {@code n} channels centred on each one, as in
 * the paper and DL4J's built-in layer. Forward pass by libnd4j's native {@code lrn} op, backward
 * pass by whole-array ops (see {@link #backpropGradient}).
 *
 * <p>Replaces DL4J's {@code MKLDNNLocalResponseNormalizationHelper}, which is wrong in M2.1: it
 * hands the NCHW activations to {@code lrn} as they are, but that op normalises over the LAST
 * axis (NHWC, i.e. across image columns here), and passes {@code n} where the op wants the
 * half-width {@code depth} (window {@code 2*depth+1}: 11 channels instead of 5). Measured: 18%
 * relative error on the activations. Here the activations are made NHWC, the op runs with
 * {@code depth = n/2}, and the result is turned back to NCHW.
 *
 * <p>Both passes walk the batch in chunks of a few images and reuse two chunk-sized scratch
 * arrays, so their working memory is about {@code 2 * maxChunkElements} floats however large the
 * batch. DL4J's layer working-memory workspace keeps its largest request for the whole run, and
 * whole-batch temporaries made LRN1 its largest (two 149 MB arrays at batch 128).
 *
 * <p>One instance per layer (it keeps its window-sum constants and, between a training forward pass and
 * its backward pass, that pass's input and output), not thread-safe.
 */
public final class ChannelLrnHelper implements LocalResponseNormalizationHelper {
    /** Scratch budget per array: 2M floats (8 MB), 7 of conv1's 96x55x55 maps per chunk. */
    public static final long DEFAULT_CHUNK_ELEMENTS = 1L << 21;

    private final long maxChunkElements;
    private final boolean inputFromRelu;
    /** Band weights and bias vectors for {@link #windowSum}, kept outside workspaces. */
    private final Map<Constant, INDArray> constants = new HashMap<>();
    private INDArray recordedInput;
    private INDArray recordedOutput;
    private long outputReusingBackwardPasses;

    public ChannelLrnHelper() {
        this(DEFAULT_CHUNK_ELEMENTS, false);
    }

    /**
     * @param maxChunkElements elements per scratch array; a chunk holds at least one image
     * @param inputFromRelu the layer's input is the output of a plain ReLU, whose backward pass zeroes the
     *     gradient wherever that output is 0: the backward pass may then return 0 there instead of the exact
     *     value (see {@link #backpropGradient}), and needs no power function
     */
    public ChannelLrnHelper(long maxChunkElements, boolean inputFromRelu) {
        if (maxChunkElements < 1) {
            throw new IllegalArgumentException("maxChunkElements must be positive, got " + maxChunkElements);
        }
        this.maxChunkElements = maxChunkElements;
        this.inputFromRelu = inputFromRelu;
    }

    /** Whether the layer's input is a ReLU's output (the backward pass then reuses the forward pass's output). */
    public boolean inputFromRelu() {
        return inputFromRelu;
    }

    /** Backward passes that worked from the forward pass's output, with no power function. */
    public long outputReusingBackwardPasses() {
        return outputReusingBackwardPasses;
    }

    @Override
    public boolean checkSupported(double k, double n, double alpha, double beta) {
        // an odd window centred on the channel: what both DL4J's layer and the op compute
        return n >= 1 && n == Math.rint(n) && ((int) n) % 2 == 1;
    }

    @Override
    public boolean checkSupported() {
        return true;
    }

    /** Images per chunk for activations shaped like {@code x}. */
    long chunkSize(INDArray x) {
        return BatchChunks.imagesPerChunk(x.size(0), x.length() / x.size(0), maxChunkElements);
    }

    @Override
    public INDArray activate(INDArray x, boolean training, double k, double n, double alpha, double beta,
                             LayerWorkspaceMgr mgr) {
        recordedInput = null;
        recordedOutput = null;
        long batch = x.size(0);
        long chunk = chunkSize(x);
        INDArray out = mgr.createUninitialized(ArrayType.ACTIVATIONS, x.dataType(), x.shape(), 'c');
        // scratch in the current (working-memory) workspace; a chunk's views of it are contiguous
        INDArray nhwc = Nd4j.createUninitialized(x.dataType(), chunk, x.size(2), x.size(3), x.size(1));
        INDArray outNhwc = nhwc.ulike();
        for (long from = 0; from < batch; from += chunk) {
            long to = Math.min(batch, from + chunk);
            INDArray in = images(nhwc, 0, to - from);
            INDArray result = images(outNhwc, 0, to - from);
            in.assign(images(x, from, to).permute(0, 2, 3, 1));
            Nd4j.exec(DynamicCustomOp.builder("lrn")
                    .addInputs(in).addOutputs(result)
                    .addIntegerArguments(halfWidth(n))
                    .addFloatingPointArguments(k, alpha, beta)
                    .build());
            images(out, from, to).assign(result.permute(0, 3, 1, 2));
        }
        if (training && inputFromRelu) {
            // both stay in the activations workspace until the backward pass (the output is the next layer's input)
            recordedInput = x;
            recordedOutput = out;
        }
        return out;
    }

    /**
     * The exact derivative, in whole-array ND4J ops, chunk by chunk. With
     * {@code s = k + alpha * W(a^2)}, where {@code W} sums the {@code n}-channel window (clipped at
     * the edges, so it is symmetric):
     * {@code dL/da = e * s^-beta - 2 alpha beta * a * W(e * a * s^(-beta-1))}.
     *
     * <p><b>From the forward pass's output</b> {@code b = a * s^-beta}, when the input is a ReLU's
     * output and this pass follows the training forward pass on the same input: then
     * {@code e * a * s^(-beta-1) = e * b / s} and, wherever {@code a != 0},
     * {@code e * s^-beta = e * b / a}. Where {@code a = 0} the gradient is returned as 0, which is
     * what the ReLU's backward pass makes of any value there. No power function (libnd4j's takes
     * 0.9 ms for LRN1 of the small profile at batch 32, 2 cores: a third of this pass), 8
     * whole-array ops instead of 14.
     *
     * <p>Not libnd4j's {@code lrn_bp}: in M2.1 it does not match {@code lrn}'s derivative (about
     * 20% relative error against a central finite difference of {@code lrn}, generic and oneDNN
     * builds alike). Not DL4J's built-in backward either: it reads state its own forward pass
     * leaves behind, which a helper's forward pass does not.
     */
    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray a, INDArray epsilon, double k, double n,
                                                     double alpha, double beta, LayerWorkspaceMgr mgr) {
        INDArray output = recordedInput == a && recordedOutput != null ? recordedOutput : null;
        recordedInput = null;
        recordedOutput = null;
        int halfWidth = halfWidth(n);
        long batch = a.size(0);
        long chunk = chunkSize(a);
        INDArray epsOut = mgr.createUninitialized(ArrayType.ACTIVATION_GRAD, a.dataType(), a.shape(), 'c');
        long[] chunkShape = a.shape().clone();
        chunkShape[0] = chunk;
        INDArray scratch1 = Nd4j.createUninitialized(a.dataType(), chunkShape);
        INDArray scratch2 = scratch1.ulike();
        if (output != null) {
            outputReusingBackwardPasses++;
        }
        for (long from = 0; from < batch; from += chunk) {
            long to = Math.min(batch, from + chunk);
            INDArray ac = images(a, from, to);
            INDArray ec = images(epsilon, from, to);
            INDArray oc = images(epsOut, from, to);
            INDArray buf = images(scratch1, 0, to - from);
            INDArray s = windowSum(ac.mul(ac, buf), halfWidth, alpha, k, images(scratch2, 0, to - from)); // s
            if (output != null) {
                ec.mul(images(output, from, to), buf);                                 // e b
                Nd4j.exec(DynamicCustomOp.builder("divide_no_nan").addInputs(buf, ac).addOutputs(oc).build()); // e b / a
                windowSum(s.rdivi(buf), halfWidth, -2 * alpha * beta, 0, buf).muli(ac); // cross term
                oc.addi(buf);
            } else {
                Nd4j.exec(new Pow(s, buf, -beta));                                     // buf = s^-beta
                INDArray t = s.rdivi(buf).muli(ec).muli(ac);                           // e a s^(-beta-1), in s
                windowSum(t, halfWidth, -2 * alpha * beta, 0, oc).muli(ac);            // cross term
                oc.addi(buf.muli(ec));                                                 // + e s^-beta
            }
        }
        return new Pair<>(new DefaultGradient(), epsOut);
    }

    /**
     * {@code scale * W(q) + offset} (NCHW, the window summed over channels c-h..c+h, clipped at the
     * edges), into {@code out}: a 1x1 convolution with a 0/{@code scale} band matrix as its weights
     * and {@code offset} as every channel's bias. oneDNN runs it in 0.47-0.68 ms for the small
     * profile's LRNs at batch 32 on 2 cores, against 0.78-0.81 ms as a batched matrix product,
     * and about 10x faster than 2h shifted adds on channel slices (slow strided loops).
     * {@code q} and {@code out} must be distinct.
     */
    INDArray windowSum(INDArray q, int h, double scale, double offset, INDArray out) {
        long channels = q.size(1);
        INDArray weights = bandWeights(channels, h, scale, q.dataType());
        DynamicCustomOp.DynamicCustomOpsBuilder conv = DynamicCustomOp.builder("conv2d");
        if (offset != 0) {
            conv.addInputs(q, weights, bias(channels, offset, q.dataType()));
        } else {
            conv.addInputs(q, weights);
        }
        Nd4j.exec(conv.addOutputs(out)
                .addIntegerArguments(1, 1, 1, 1, 0, 0, 1, 1,
                        0,  // explicit padding
                        0,  // NCHW
                        1)  // weights [oC, iC, kH, kW]
                .build());
        return out;
    }

    /** Band weights {@code [C, C, 1, 1]} (h = half-width) or, with h = -1, a bias vector {@code [C]}: constants of this layer. */
    private record Constant(long channels, int h, double value, DataType dataType) {
    }

    private INDArray bandWeights(long channels, int h, double scale, DataType dt) {
        return constants.computeIfAbsent(new Constant(channels, h, scale, dt), c -> outsideWorkspaces(() -> {
            INDArray band = Nd4j.zeros(dt, channels, channels, 1, 1);
            for (long i = 0; i < channels; i++) {
                band.get(point(i), interval(Math.max(0, i - h), Math.min(channels, i + h + 1))).assign(scale);
            }
            return band;
        }));
    }

    private INDArray bias(long channels, double value, DataType dt) {
        return constants.computeIfAbsent(new Constant(channels, -1, value, dt),
                c -> outsideWorkspaces(() -> Nd4j.valueArrayOf(new long[] {channels}, value, dt)));
    }

    private static INDArray outsideWorkspaces(java.util.function.Supplier<INDArray> make) {
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return make.get();
        }
    }

    @Override
    public Map<String, Long> helperMemoryUse() {
        return Map.of();
    }

    private static int halfWidth(double n) {
        return (int) n / 2;
    }
}
