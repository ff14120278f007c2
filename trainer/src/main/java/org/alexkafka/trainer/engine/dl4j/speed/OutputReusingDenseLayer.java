package org.alexkafka.trainer.engine.dl4j.speed;

import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.AbstractLayer;
import org.deeplearning4j.nn.layers.BaseLayer;
import org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;

/**
 * DL4J's fully connected layer, whose backward pass does not compute its forward pass again. DL4J
 * 1.0.0-M2.1's {@code BaseLayer.backpropGradient} recomputes the pre-activation {@code z = xW + b}
 * (a matrix product and a bias add) only to hand it to the activation's derivative. For a plain
 * ReLU that derivative needs no more than where {@code z > 0}, which is where the layer's output
 * {@code relu(z)} is {@code > 0}; the output is still in the activations workspace during the
 * backward pass (it is the next layer's input). So this layer keeps its output from the training
 * forward pass and gives it to the derivative, as {@link LeanConvHelper} does for convolutions.
 * Saves 2 matrix products and 2 bias adds per step in AlexNet (fc6 and fc7; on the small profile
 * about 2% of a step, by JFR samples of the training thread). Same configuration, parameters and
 * serialised form as the layer it replaces; {@link LayerHelpers#enable} swaps it in for layers
 * with a plain ReLU.
 */
public final class OutputReusingDenseLayer extends DenseLayer {
    private INDArray recordedOutput;
    private long reusedOutputs;
    private boolean reuseOutput = true;

    /** A layer in {@code original}'s place: all of its state (parameters, gradient views, input, index...) copied. */
    public OutputReusingDenseLayer(DenseLayer original) {
        super(original.conf(), original.getDataType());
        LayerState.copy(original, this, List.of(DenseLayer.class, BaseLayer.class, AbstractLayer.class));
    }

    /** Backward passes that used the forward pass's output instead of recomputing the pre-activation. */
    public long reusedOutputs() {
        return reusedOutputs;
    }

    /** Off: DL4J's own backward pass, recomputation included ({@link LayerHelpers#disable}); on again by {@link LayerHelpers#enable}. */
    public void setReuseOutput(boolean reuse) {
        reuseOutput = reuse;
        recordedOutput = null;
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        recordedOutput = null;
        INDArray out = super.activate(training, workspaceMgr);
        if (reuseOutput && training && maskArray == null && !hasLayerNorm()
                && LeanConvHelper.derivativeFollowsFromOutput(layerConf().getActivationFn())) {
            recordedOutput = out;
        }
        return out;
    }

    @Override
    protected Pair<INDArray, INDArray> preOutputWithPreNorm(boolean training, boolean forBackprop, LayerWorkspaceMgr workspaceMgr) {
        INDArray output = recordedOutput;
        if (forBackprop && output != null) {
            recordedOutput = null;
            reusedOutputs++;
            return new Pair<>(output, output); // the second (pre-layer-norm) is read only with layer norm: none here
        }
        return super.preOutputWithPreNorm(training, forBackprop, workspaceMgr);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        try {
            return super.backpropGradient(epsilon, workspaceMgr);
        } finally {
            recordedOutput = null; // the output's workspace is recycled after this step
        }
    }

    @Override
    public void setInput(INDArray input, LayerWorkspaceMgr workspaceMgr) {
        recordedOutput = null; // a new input: the output recorded for the old one is not this one's
        super.setInput(input, workspaceMgr);
    }
}
