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
 * <p>One instance per layer (it keeps a band matrix for its chunk size), not thread-safe.
 */
public final class ChannelLrnHelper implements LocalResponseNormalizationHelper {
    /** Scratch budget per array: 2M floats (8 MB), 7 of conv1's 96x55x55 maps per chunk. */
    public static final long DEFAULT_CHUNK_ELEMENTS = 1L << 21;

    private final long maxChunkElements;
    private INDArray bandCache;
    private int bandHalfWidth;

    public ChannelLrnHelper() {
        this(DEFAULT_CHUNK_ELEMENTS);
    }

    /** @param maxChunkElements elements per scratch array; a chunk holds at least one image */
    public ChannelLrnHelper(long maxChunkElements) {
        if (maxChunkElements < 1) {
            throw new IllegalArgumentException("maxChunkElements must be positive, got " + maxChunkElements);
        }
        this.maxChunkElements = maxChunkElements;
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
        return out;
    }

    /**
     * The exact derivative, in whole-array ND4J ops, chunk by chunk. With
     * {@code s = k + alpha * W(a^2)}, where {@code W} sums the {@code n}-channel window (clipped at
     * the edges, so it is symmetric):
     * {@code dL/da = e * s^-beta - 2 alpha beta * a * W(e * a * s^(-beta-1))}.
     *
     * <p>Not libnd4j's {@code lrn_bp}: in M2.1 it does not match {@code lrn}'s derivative (about
     * 20% relative error against a central finite difference of {@code lrn}, generic and oneDNN
     * builds alike). Not DL4J's built-in backward either: it reads state its own forward pass
     * leaves behind, which a helper's forward pass does not.
     */
    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray a, INDArray epsilon, double k, double n,
                                                     double alpha, double beta, LayerWorkspaceMgr mgr) {
        int halfWidth = halfWidth(n);
        long batch = a.size(0);
        long chunk = chunkSize(a);
        INDArray epsOut = mgr.createUninitialized(ArrayType.ACTIVATION_GRAD, a.dataType(), a.shape(), 'c');
        long[] chunkShape = a.shape().clone();
        chunkShape[0] = chunk;
        INDArray scratch1 = Nd4j.createUninitialized(a.dataType(), chunkShape);
        INDArray scratch2 = scratch1.ulike();
        for (long from = 0; from < batch; from += chunk) {
            long to = Math.min(batch, from + chunk);
            INDArray ac = images(a, from, to);
            INDArray ec = images(epsilon, from, to);
            INDArray oc = images(epsOut, from, to);
            INDArray buf = images(scratch1, 0, to - from);
            INDArray s = windowSum(buf.assign(ac).muli(ac), halfWidth, images(scratch2, 0, to - from))
                    .muli(alpha).addi(k);                                              // s
            Nd4j.exec(new Pow(s, buf, -beta));                                         // buf = s^-beta
            INDArray t = s.rdivi(buf).muli(ec).muli(ac);                               // e a s^(-beta-1), in s
            windowSum(t, halfWidth, oc).muli(ac).muli(-2 * alpha * beta);              // cross term
            oc.addi(buf.muli(ec));                                                     // + e s^-beta
        }
        return new Pair<>(new DefaultGradient(), epsOut);
    }

    /**
     * Sum over channels c-h..c+h (NCHW, clipped at the edges), into {@code out}, as one batched
     * matrix product with a 0/1 band matrix: {@code W(q)[n] = B q[n]}, with {@code q[n]} as
     * [C, H*W]. Three times faster in ND4J than 2h shifted adds on channel slices, which run as
     * slow strided loops. {@code q} and {@code out} must be contiguous and distinct.
     */
    INDArray windowSum(INDArray q, int h, INDArray out) {
        long n = q.size(0);
        long channels = q.size(1);
        long pixels = q.size(2) * q.size(3);
        INDArray band = bands(n, channels, h, q.dataType());
        Nd4j.matmul(band, q.reshape('c', n, channels, pixels), out.reshape('c', n, channels, pixels));
        return out;
    }

    /** [n, C, C] copies of the band matrix (matmul does not broadcast), kept outside workspaces. */
    private INDArray bands(long n, long channels, int h, DataType dt) {
        INDArray cached = bandCache;
        if (cached != null && cached.size(0) >= n && cached.size(1) == channels && cached.dataType() == dt && bandHalfWidth == h) {
            return images(cached, 0, n);
        }
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            INDArray band = Nd4j.zeros(dt, channels, channels);
            for (long i = 0; i < channels; i++) {
                band.get(point(i), interval(Math.max(0, i - h), Math.min(channels, i + h + 1))).assign(1);
            }
            bandCache = band.reshape(1, channels, channels).repeat(0, n);
            bandHalfWidth = h;
            return bandCache;
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
