package org.alexkafka.trainer.speed;

import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.normalization.LocalResponseNormalizationHelper;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.Map;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

/**
 * LRN across channels for DL4J's NCHW {@code LocalResponseNormalization} layer, forward pass by
 * libnd4j's native {@code lrn} op, backward pass by whole-array ops (see {@link #backpropGradient}): {@code b = a / (k + alpha * sum a^2)^beta} over
 * the {@code n} channels centred on each one, as in the paper and as DL4J's built-in layer.
 *
 * <p>Replaces DL4J's {@code MKLDNNLocalResponseNormalizationHelper}, which is wrong in M2.1: it
 * hands the NCHW activations to {@code lrn} as they are, but that op normalises over the LAST
 * axis (NHWC, i.e. across image columns here), and passes {@code n} where the op wants the
 * half-width {@code depth} (window {@code 2*depth+1}: 11 channels instead of 5). Measured: 18%
 * relative error on the activations. Here the activations are made NHWC, the op runs with
 * {@code depth = n/2}, and the result is turned back to NCHW.
 */
public final class ChannelLrnHelper implements LocalResponseNormalizationHelper {

    @Override
    public boolean checkSupported(double k, double n, double alpha, double beta) {
        // an odd window centred on the channel: what both DL4J's layer and the op compute
        return n >= 1 && n == Math.rint(n) && ((int) n) % 2 == 1;
    }

    @Override
    public boolean checkSupported() {
        return true;
    }

    @Override
    public INDArray activate(INDArray x, boolean training, double k, double n, double alpha, double beta,
                             LayerWorkspaceMgr mgr) {
        INDArray nhwc = x.permute(0, 2, 3, 1).dup('c');
        INDArray outNhwc = nhwc.ulike();
        Nd4j.exec(DynamicCustomOp.builder("lrn")
                .addInputs(nhwc).addOutputs(outNhwc)
                .addIntegerArguments(halfWidth(n))
                .addFloatingPointArguments(k, alpha, beta)
                .build());
        INDArray out = mgr.createUninitialized(ArrayType.ACTIVATIONS, x.dataType(), x.shape(), 'c');
        return out.assign(outNhwc.permute(0, 3, 1, 2));
    }

    /**
     * The exact derivative, in whole-array ND4J ops. With {@code s = k + alpha * W(a^2)}, where
     * {@code W} sums the {@code n}-channel window (clipped at the edges, so it is symmetric):
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
        INDArray s = windowSum(a.mul(a), halfWidth).muli(alpha).addi(k);
        INDArray sPowMinusBeta = Transforms.pow(s, -beta, true);
        INDArray t = epsilon.mul(a).muli(sPowMinusBeta).divi(s);
        INDArray cross = windowSum(t, halfWidth).muli(a).muli(2 * alpha * beta);
        INDArray epsOut = mgr.createUninitialized(ArrayType.ACTIVATION_GRAD, a.dataType(), a.shape(), 'c');
        epsOut.assign(epsilon).muli(sPowMinusBeta).subi(cross);
        return new Pair<>(new DefaultGradient(), epsOut);
    }

    /** Sum over channels c-h..c+h (NCHW, clipped at the edges), as 2h+1 shifted adds: exact, no scan. */
    static INDArray windowSum(INDArray q, int h) {
        long channels = q.size(1);
        long[] paddedShape = q.shape().clone();
        paddedShape[1] += 2L * h;
        INDArray padded = Nd4j.zeros(q.dataType(), paddedShape);
        padded.get(all(), interval(h, h + channels), all(), all()).assign(q);
        INDArray sum = padded.get(all(), interval(0, channels), all(), all()).dup('c');
        for (int shift = 1; shift <= 2 * h; shift++) {
            sum.addi(padded.get(all(), interval(shift, shift + channels), all(), all()));
        }
        return sum;
    }

    @Override
    public Map<String, Long> helperMemoryUse() {
        return Map.of();
    }

    private static int halfWidth(double n) {
        return (int) n / 2;
    }
}
