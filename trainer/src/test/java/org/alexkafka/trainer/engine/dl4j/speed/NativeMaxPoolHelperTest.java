package org.alexkafka.trainer.engine.dl4j.speed;

import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * libnd4j's own max pooling against a max pooling written out here and against DL4J's path (oneDNN
 * where the build has it), on inputs full of ties: a window's gradient must go to its first maximum.
 */
class NativeMaxPoolHelperTest {
    static final LayerWorkspaceMgr NO_WS = LayerWorkspaceMgr.noWorkspaces();

    @BeforeAll
    static void nativeBuild() {
        NativeBuildSelector.selectBeforeNd4jLoads();
    }

    static SubsamplingLayer layer(PoolingType type, ConvolutionMode mode, int kernel, int stride, int pad) {
        var conf = new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT).convolutionMode(mode)
                .layer(new org.deeplearning4j.nn.conf.layers.SubsamplingLayer.Builder(type)
                        .kernelSize(kernel, kernel).stride(stride, stride).padding(pad, pad).cudnnAllowFallback(false).build())
                .build();
        var layer = (SubsamplingLayer) conf.getLayer().instantiate(conf, null, 0, null, true, DataType.FLOAT);
        LayerHelpers.disable(layer);
        return layer;
    }

    /** Small integers: most windows hold their maximum more than once. */
    static INDArray tiedInput(long... shape) {
        Nd4j.getRandom().setSeed(5);
        return Nd4j.rand(DataType.FLOAT, shape).muli(4).castTo(DataType.INT32).castTo(DataType.FLOAT);
    }

    /** Output and input gradient of a max pooling without padding, by definition; ties go to the first maximum. */
    static INDArray[] reference(INDArray x, INDArray eps, int k, int s) {
        long n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
        long oh = (h - k) / s + 1, ow = (w - k) / s + 1;
        INDArray out = Nd4j.create(DataType.FLOAT, n, c, oh, ow);
        INDArray grad = Nd4j.zeros(DataType.FLOAT, n, c, h, w);
        for (long i = 0; i < n; i++) {
            for (long ch = 0; ch < c; ch++) {
                for (long y = 0; y < oh; y++) {
                    for (long xo = 0; xo < ow; xo++) {
                        float best = Float.NEGATIVE_INFINITY;
                        long by = -1, bx = -1;
                        for (long dy = 0; dy < k; dy++) {
                            for (long dx = 0; dx < k; dx++) {
                                float v = x.getFloat(i, ch, y * s + dy, xo * s + dx);
                                if (v > best) {
                                    best = v;
                                    by = y * s + dy;
                                    bx = xo * s + dx;
                                }
                            }
                        }
                        out.putScalar(new long[] {i, ch, y, xo}, best);
                        grad.putScalar(new long[] {i, ch, by, bx}, grad.getFloat(i, ch, by, bx) + eps.getFloat(i, ch, y, xo));
                    }
                }
            }
        }
        return new INDArray[] {out, grad};
    }

    static INDArray[] forwardBackward(SubsamplingLayer layer, INDArray x, INDArray eps) {
        layer.setInput(x, NO_WS);
        INDArray out = layer.activate(true, NO_WS).dup();
        INDArray grad = layer.backpropGradient(eps, NO_WS).getSecond().dup();
        return new INDArray[] {out, grad};
    }

    @Test
    void overlappingMaxPoolingWithTiesEqualsTheDefinitionAndDl4jsPath() {
        INDArray x = tiedInput(3, 5, 15, 15); // AlexNet's 3x3/2 overlapping pool: 15 -> 7
        INDArray eps = Nd4j.rand(DataType.FLOAT, 3, 5, 7, 7).subi(0.5);
        INDArray[] expected = reference(x, eps, 3, 2);

        SubsamplingLayer builtIn = layer(PoolingType.MAX, ConvolutionMode.Truncate, 3, 2, 0);
        INDArray[] dl4j = forwardBackward(builtIn, x, eps);

        SubsamplingLayer fast = new NativeSubsamplingLayer(layer(PoolingType.MAX, ConvolutionMode.Truncate, 3, 2, 0));
        var helper = new NativeMaxPoolHelper();
        LayerHelpers.replaceHelper(fast, helper);
        INDArray[] native1 = forwardBackward(fast, x, eps);
        INDArray[] native2 = forwardBackward(fast, x, eps); // the gradient array is not summed into twice

        assertThat(helper.forwardPasses()).isEqualTo(2);
        assertThat(helper.backwardPasses()).isEqualTo(2);
        assertThat(native1[0]).isEqualTo(expected[0]);
        assertThat(native1[1]).isEqualTo(expected[1]);
        assertThat(native2[1]).isEqualTo(expected[1]);
        assertThat(dl4j[0]).isEqualTo(expected[0]);
        assertThat(dl4j[1]).isEqualTo(expected[1]);
        assertThat(expected[1].sumNumber().doubleValue()).isCloseTo(eps.sumNumber().doubleValue(), org.assertj.core.api.Assertions.within(1e-3));
    }

    @Test
    void sameModeAndPaddingMatchDl4jsPath() {
        INDArray x = tiedInput(2, 3, 16, 16);
        for (ConvolutionMode mode : new ConvolutionMode[] {ConvolutionMode.Same, ConvolutionMode.Truncate}) {
            SubsamplingLayer builtIn = layer(PoolingType.MAX, mode, 3, 2, 1);
            SubsamplingLayer fast = new NativeSubsamplingLayer(layer(PoolingType.MAX, mode, 3, 2, 1));
            var helper = new NativeMaxPoolHelper();
            LayerHelpers.replaceHelper(fast, helper);
            builtIn.setInput(x, NO_WS);
            INDArray shapeOnly = builtIn.activate(true, NO_WS);
            INDArray eps = Nd4j.rand(DataType.FLOAT, shapeOnly.shape()).subi(0.5);
            INDArray[] dl4j = forwardBackward(builtIn, x, eps);
            INDArray[] nat = forwardBackward(fast, x, eps);
            assertThat(helper.forwardPasses()).as(mode.name()).isEqualTo(1);
            assertThat(helper.backwardPasses()).as(mode.name()).isEqualTo(1);
            assertThat(nat[0]).as(mode.name()).isEqualTo(dl4j[0]);
            assertThat(nat[1]).as(mode.name()).isEqualTo(dl4j[1]);
        }
    }

    @Test
    void averagePoolingIsLeftToDl4j() {
        INDArray x = tiedInput(2, 3, 9, 9);
        SubsamplingLayer builtIn = layer(PoolingType.AVG, ConvolutionMode.Truncate, 3, 2, 0);
        SubsamplingLayer fast = new NativeSubsamplingLayer(layer(PoolingType.AVG, ConvolutionMode.Truncate, 3, 2, 0));
        var helper = new NativeMaxPoolHelper();
        LayerHelpers.replaceHelper(fast, helper);
        INDArray eps = Nd4j.rand(DataType.FLOAT, 2, 3, 4, 4);
        INDArray[] dl4j = forwardBackward(builtIn, x, eps);
        INDArray[] nat = forwardBackward(fast, x, eps);
        assertThat(helper.forwardPasses() + helper.backwardPasses()).isZero();
        assertThat(nat[0]).isEqualTo(dl4j[0]);
        assertThat(nat[1]).isEqualTo(dl4j[1]);
    }
}
