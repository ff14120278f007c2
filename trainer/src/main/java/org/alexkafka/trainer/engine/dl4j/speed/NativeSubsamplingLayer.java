package org.alexkafka.trainer.engine.dl4j.speed;

import org.deeplearning4j.nn.layers.AbstractLayer;
import org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.exception.ND4JOpProfilerException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * DL4J's subsampling layer with its forward pass also going to the layer's helper. In DL4J
 * 1.0.0-M2.1 {@code SubsamplingLayer.activate} never calls the helper (only
 * {@code backpropGradient} does): it runs {@code maxpool2d} itself, i.e. oneDNN's slow NCHW
 * pooling (see {@link NativeMaxPoolHelper}). Same configuration, parameters (none) and
 * serialised form as the layer it replaces; {@link LayerHelpers#enable} swaps it in.
 */
public final class NativeSubsamplingLayer extends SubsamplingLayer {
    private static final Logger log = LoggerFactory.getLogger(NativeSubsamplingLayer.class);

    /** A layer in {@code original}'s place: all of its state (input, index, listeners, helper...) copied. */
    public NativeSubsamplingLayer(SubsamplingLayer original) {
        super(original.conf(), original.getDataType());
        LayerState.copy(original, this, List.of(SubsamplingLayer.class, AbstractLayer.class));
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        if (helper == null || input == null || input.rank() != 4 || (helperCountFail > 0 && layerConf().isCudnnAllowFallback())) {
            return super.activate(training, workspaceMgr); // its input checks and messages, and DL4J's own path
        }
        INDArray in = input.castTo(dataType);
        var conf = layerConf();
        int[] kernel = conf.getKernelSize();
        int[] strides = conf.getStride();
        int[] dilation = conf.getDilation();
        int[] pad = conf.getPadding(); // NativeMaxPoolHelper works out Same mode's padding itself
        INDArray out;
        try {
            out = helper.activate(in, training, kernel, strides, pad, conf.getPoolingType(), convolutionMode, dilation,
                    conf.getCnn2dDataFormat(), workspaceMgr);
        } catch (ND4JOpProfilerException e) {
            throw e;
        } catch (RuntimeException e) {
            if (!conf.isCudnnAllowFallback()) {
                throw e;
            }
            helperCountFail++;
            log.warn("Native pooling failed in layer {}: falling back on DL4J's built-in path", index, e);
            out = null;
        }
        return out != null ? out : super.activate(training, workspaceMgr);
    }
}
