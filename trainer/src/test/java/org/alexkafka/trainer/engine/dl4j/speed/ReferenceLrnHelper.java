package org.alexkafka.trainer.engine.dl4j.speed;

import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.normalization.LocalResponseNormalizationHelper;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.Map;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

/**
 * The straightforward LRN: the paper's formula written out channel by channel, and its derivative
 * the same way. Slow and obvious on purpose; the reference the fast path is compared with
 * (DL4J's built-in LRN backward cannot be: it divides by the scale of the wrong channel, see
 * {@link ChannelLrnHelperTest}). Checked itself against finite differences.
 *
 * <pre>
 *   s_c = k + alpha * sum_{j in N(c)} a_j^2        N(c) = [c - n/2, c + n/2] clipped to the channels
 *   b_c = a_c * s_c^-beta
 *   dL/da_j = e_j * s_j^-beta - 2 alpha beta a_j * sum_{c : j in N(c)} e_c a_c s_c^(-beta-1)
 * </pre>
 */
final class ReferenceLrnHelper implements LocalResponseNormalizationHelper {

    static INDArray channel(INDArray x, long c) {
        return x.get(all(), point(c), all(), all());
    }

    static INDArray scale(INDArray a, double k, int n, double alpha) {
        long channels = a.size(1);
        INDArray s = a.ulike();
        for (long c = 0; c < channels; c++) {
            long lo = Math.max(0, c - n / 2);
            long hi = Math.min(channels - 1, c + n / 2);
            INDArray window = a.get(all(), interval(lo, hi + 1), all(), all());
            channel(s, c).assign(window.mul(window).sum(1).muli(alpha).addi(k));
        }
        return s;
    }

    @Override
    public INDArray activate(INDArray a, boolean training, double k, double n, double alpha, double beta,
                             LayerWorkspaceMgr mgr) {
        INDArray s = scale(a, k, (int) n, alpha);
        INDArray out = mgr.createUninitialized(ArrayType.ACTIVATIONS, a.dataType(), a.shape(), 'c');
        return out.assign(a.mul(Transforms.pow(s, -beta, true)));
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray a, INDArray e, double k, double n, double alpha,
                                                     double beta, LayerWorkspaceMgr mgr) {
        int width = (int) n;
        long channels = a.size(1);
        INDArray s = scale(a, k, width, alpha);
        INDArray grad = mgr.createUninitialized(ArrayType.ACTIVATION_GRAD, a.dataType(), a.shape(), 'c');
        for (long j = 0; j < channels; j++) {
            INDArray term = channel(e, j).mul(Transforms.pow(channel(s, j), -beta, true));
            for (long c = Math.max(0, j - width / 2); c <= Math.min(channels - 1, j + width / 2); c++) {
                INDArray fromC = channel(e, c).mul(channel(a, c)).muli(Transforms.pow(channel(s, c), -beta - 1, true));
                term.subi(fromC.muli(channel(a, j)).muli(2 * alpha * beta));
            }
            channel(grad, j).assign(term);
        }
        return new Pair<>(new DefaultGradient(), grad);
    }

    @Override
    public boolean checkSupported(double k, double n, double alpha, double beta) {
        return true;
    }

    @Override
    public boolean checkSupported() {
        return true;
    }

    @Override
    public Map<String, Long> helperMemoryUse() {
        return Map.of();
    }
}
