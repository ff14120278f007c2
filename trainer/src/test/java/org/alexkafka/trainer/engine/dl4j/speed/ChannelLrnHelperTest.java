package org.alexkafka.trainer.engine.dl4j.speed;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.layers.normalization.LocalResponseNormalizationHelper;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.assertj.core.api.Assertions.assertThat;

/** LRN with the paper's constants (k=2, n=5, beta=0.75), in double precision, on activations large enough for the sum term to matter. */
class ChannelLrnHelperTest {
    static final double K = 2, N = 5, ALPHA = 1e-3, BETA = 0.75;
    static final LayerWorkspaceMgr NO_WS = LayerWorkspaceMgr.noWorkspaces();

    @BeforeAll
    static void nativeBuild() {
        NativeBuildSelector.selectBeforeNd4jLoads();
    }

    static INDArray input() {
        Nd4j.getRandom().setSeed(3);
        return Nd4j.rand(DataType.DOUBLE, 2, 9, 3, 4).subi(0.5).muli(80); // 9 channels: edges and middle
    }

    static double rel(INDArray actual, INDArray expected) {
        return actual.sub(expected).norm2Number().doubleValue() / expected.norm2Number().doubleValue();
    }

    /** d(sum(f(x) * e))/dx by central differences. */
    static INDArray numericGradient(LocalResponseNormalizationHelper f, INDArray x, INDArray e) {
        INDArray g = x.ulike();
        double h = 1e-5;
        for (long i = 0; i < x.length(); i++) {
            double v = x.getDouble(i);
            x.putScalar(i, v + h);
            double plus = f.activate(x, true, K, N, ALPHA, BETA, NO_WS).mul(e).sumNumber().doubleValue();
            x.putScalar(i, v - h);
            double minus = f.activate(x, true, K, N, ALPHA, BETA, NO_WS).mul(e).sumNumber().doubleValue();
            x.putScalar(i, v);
            g.putScalar(i, (plus - minus) / (2 * h));
        }
        return g;
    }

    static org.deeplearning4j.nn.layers.normalization.LocalResponseNormalization dl4jLayer() {
        var conf = new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE)
                .layer(new org.deeplearning4j.nn.conf.layers.LocalResponseNormalization.Builder(K, N, ALPHA, BETA).build())
                .build();
        var layer = (org.deeplearning4j.nn.layers.normalization.LocalResponseNormalization)
                conf.getLayer().instantiate(conf, null, 0, null, true, DataType.DOUBLE);
        LayerHelpers.disable(layer);
        return layer;
    }

    @Test
    void forwardEqualsPaperFormulaAndDl4jBuiltIn() {
        INDArray x = input();
        INDArray fast = new ChannelLrnHelper().activate(x, true, K, N, ALPHA, BETA, NO_WS);
        INDArray reference = new ReferenceLrnHelper().activate(x, true, K, N, ALPHA, BETA, NO_WS);
        var layer = dl4jLayer();
        layer.setInput(x, NO_WS);
        INDArray builtIn = layer.activate(true, NO_WS);
        assertThat(rel(reference, x)).as("the sum term matters at this scale").isGreaterThan(0.05);
        assertThat(rel(fast, reference)).isLessThan(1e-6); // the native op is not exact to the last bit
        assertThat(rel(builtIn, reference)).isLessThan(1e-9);
    }

    @Test
    void backwardEqualsFiniteDifferences() {
        INDArray x = input();
        INDArray e = Nd4j.rand(DataType.DOUBLE, x.shape()).subi(0.5);
        INDArray numeric = numericGradient(new ReferenceLrnHelper(), x, e);
        INDArray fast = new ChannelLrnHelper().backpropGradient(x, e, K, N, ALPHA, BETA, NO_WS).getSecond();
        INDArray reference = new ReferenceLrnHelper().backpropGradient(x, e, K, N, ALPHA, BETA, NO_WS).getSecond();
        assertThat(rel(reference, numeric)).isLessThan(1e-7);
        assertThat(rel(fast, numeric)).isLessThan(1e-7);
    }

    /** Batch 5 in chunks of 2, 2 and 1 image (9 x 3 x 4 = 108 elements per image): the same numbers as one pass. */
    @Test
    void chunksOfImagesGiveTheSameResultAsTheWholeBatch() {
        Nd4j.getRandom().setSeed(5);
        INDArray x = Nd4j.rand(DataType.DOUBLE, 5, 9, 3, 4).subi(0.5).muli(80);
        INDArray e = Nd4j.rand(DataType.DOUBLE, x.shape()).subi(0.5);
        ChannelLrnHelper whole = new ChannelLrnHelper();
        ChannelLrnHelper chunked = new ChannelLrnHelper(250, false);
        assertThat(whole.chunkSize(x)).isEqualTo(5);
        assertThat(chunked.chunkSize(x)).isEqualTo(2);
        INDArray forwardWhole = whole.activate(x, true, K, N, ALPHA, BETA, NO_WS);
        INDArray forwardChunked = chunked.activate(x, true, K, N, ALPHA, BETA, NO_WS);
        assertThat(rel(forwardChunked, forwardWhole)).isLessThan(1e-12);
        INDArray backWhole = whole.backpropGradient(x, e, K, N, ALPHA, BETA, NO_WS).getSecond();
        INDArray backChunked = chunked.backpropGradient(x, e, K, N, ALPHA, BETA, NO_WS).getSecond();
        assertThat(rel(backChunked, backWhole)).isLessThan(1e-12);
        // and right, not merely consistent: against the channel-by-channel reference
        INDArray reference = new ReferenceLrnHelper().backpropGradient(x, e, K, N, ALPHA, BETA, NO_WS).getSecond();
        assertThat(rel(backChunked, reference)).isLessThan(1e-9);
    }

    @Test
    void dl4jBuiltInBackwardIsOffWhichIsWhyItIsNotTheReference() {
        // DL4J 1.0.0-M2.1 divides the cross term by the scale s_j of the receiving channel
        // instead of s_c of each contributing channel. If this fails, DL4J fixed it.
        INDArray x = input();
        INDArray e = Nd4j.rand(DataType.DOUBLE, x.shape()).subi(0.5);
        INDArray numeric = numericGradient(new ReferenceLrnHelper(), x, e);
        var layer = dl4jLayer();
        layer.setInput(x, NO_WS);
        layer.activate(true, NO_WS);
        INDArray builtIn = layer.backpropGradient(e, NO_WS).getSecond();
        assertThat(rel(builtIn, numeric)).isGreaterThan(1e-4);
    }

    /** A ReLU's output: the input with its negative half set to exact zeros. */
    static INDArray reluInput() {
        INDArray x = input();
        return x.mul(x.gt(0).castTo(x.dataType()));
    }

    @Test
    void backwardFromTheForwardOutputEqualsFiniteDifferencesWhereverTheReluPassesGradient() {
        INDArray x = reluInput();
        INDArray e = Nd4j.rand(DataType.DOUBLE, x.shape()).subi(0.5);
        INDArray passes = x.gt(0).castTo(DataType.DOUBLE);
        assertThat(passes.sumNumber().doubleValue()).as("zeros and positives both present").isBetween(50.0, 166.0);
        INDArray numeric = numericGradient(new ReferenceLrnHelper(), x, e);
        ChannelLrnHelper helper = new ChannelLrnHelper(120, true); // 108 elements per image: a chunk per image
        helper.activate(x, true, K, N, ALPHA, BETA, NO_WS);
        INDArray fromOutput = helper.backpropGradient(x, e, K, N, ALPHA, BETA, NO_WS).getSecond();
        assertThat(helper.outputReusingBackwardPasses()).isEqualTo(1);
        assertThat(rel(fromOutput, numeric.mul(passes))).isLessThan(1e-7);
        assertThat(fromOutput.mul(passes.rsub(1)).amaxNumber().doubleValue()).as("0 where the ReLU stops the gradient").isZero();
        // the exact gradient is not 0 there: the shortcut is what the ReLU makes of it, not what LRN gives
        assertThat(numeric.mul(passes.rsub(1)).amaxNumber().doubleValue()).isGreaterThan(1e-3);
    }

    @Test
    void backwardWithoutItsForwardPassOnTheSameInputIsTheExactOne() {
        INDArray x = reluInput();
        INDArray e = Nd4j.rand(DataType.DOUBLE, x.shape()).subi(0.5);
        INDArray exact = new ChannelLrnHelper(250, false).backpropGradient(x, e, K, N, ALPHA, BETA, NO_WS).getSecond();
        ChannelLrnHelper helper = new ChannelLrnHelper(250, true);
        helper.activate(x.dup(), true, K, N, ALPHA, BETA, NO_WS);           // another array
        INDArray afterOtherInput = helper.backpropGradient(x, e, K, N, ALPHA, BETA, NO_WS).getSecond();
        helper.activate(x, false, K, N, ALPHA, BETA, NO_WS);                // inference: nothing recorded
        INDArray afterInference = helper.backpropGradient(x, e, K, N, ALPHA, BETA, NO_WS).getSecond();
        helper.activate(x, true, K, N, ALPHA, BETA, NO_WS);
        helper.backpropGradient(x, e, K, N, ALPHA, BETA, NO_WS);
        INDArray secondBackward = helper.backpropGradient(x, e, K, N, ALPHA, BETA, NO_WS).getSecond(); // record used up
        assertThat(helper.outputReusingBackwardPasses()).isEqualTo(1);
        assertThat(rel(afterOtherInput, exact)).isLessThan(1e-12);
        assertThat(rel(afterInference, exact)).isLessThan(1e-12);
        assertThat(rel(secondBackward, exact)).isLessThan(1e-12);
    }
}
