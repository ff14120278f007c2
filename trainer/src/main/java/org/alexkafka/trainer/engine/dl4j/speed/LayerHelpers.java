package org.alexkafka.trainer.engine.dl4j.speed;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.graph.vertex.VertexIndices;
import org.deeplearning4j.nn.graph.vertex.impl.LayerVertex;
import org.deeplearning4j.nn.layers.AbstractLayer;
import org.deeplearning4j.nn.layers.LayerHelper;
import org.deeplearning4j.nn.layers.convolution.ConvolutionHelper;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.layers.normalization.LocalResponseNormalization;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOpsHolder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Puts DL4J's native layer helpers on a built network: on CPU the oneDNN helpers for convolution,
 * max pooling and LRN; on CUDA the cuDNN helpers. DL4J 1.0.0-M2.1 leaves them all off:
 * <ul>
 *   <li>{@code HelperUtils.createHelper} returns null unless the system property
 *       {@value #DISABLE_PROPERTY} is {@code false} (its default is {@code true}), on CUDA too:
 *       without it the GPU trainer runs without cuDNN;</li>
 *   <li>on CPU, every oneDNN helper's {@code checkSupported()} asks
 *       {@code BaseMKLDNNHelper.mklDnnEnabled()}, which looks up
 *       {@code org.nd4j.nativeblas.Nd4jCpu$Environment.isUseMKLDNN()}, a class and method that M2.1
 *       no longer has (it is {@code org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu$Environment
 *       .isUseONEDNN()}), so it always answers false and the helper is dropped;</li>
 *   <li>{@code LocalResponseNormalization} only tries to create a helper on CUDA.</li>
 * </ul>
 * The helpers run libnd4j's own {@code conv2d}/{@code maxpool2d}/{@code lrn} ops (and their
 * {@code _bp}), which use oneDNN when the native build has it. DL4J's oneDNN LRN helper computes
 * the wrong thing in M2.1 (see {@link ChannelLrnHelper}), so LRN gets {@link ChannelLrnHelper}. Max
 * pooling gets {@link NativeMaxPoolHelper}: libnd4j's own kernels, several times faster than the
 * oneDNN ones on NCHW data; on CPU {@link #enable(Model)} also puts a {@link NativeSubsamplingLayer}
 * in each pooling layer's place, as DL4J's own forward pass ignores the helper.
 * Convolution helpers are wrapped in {@link LeanConvHelper}, which spares the backward
 * pass DL4J's second forward convolution, and the input gradient of a convolution that reads the
 * network's input ({@link #enable(Model)} finds those). The layer calls its helper whenever
 * the field is set, so setting it is enough. Call {@link #enable} after {@code init()} and after
 * every restore, clone or replica ({@code ModelSerializer.restore*}, {@code clone()}, ParallelWrapper
 * workers): those build new layer objects without helpers.
 */
public final class LayerHelpers {
    /** DL4J's switch for all layer helpers (cuDNN and oneDNN); DL4J's default is "true". */
    public static final String DISABLE_PROPERTY = "org.eclipse.deeplearning4j.helpers.disable";

    private static final Logger log = LoggerFactory.getLogger(LayerHelpers.class);

    private LayerHelpers() {
    }

    /** Which helpers a network ended up with. */
    public enum Kind { ONEDNN, ND4J_NATIVE_OPS, CUDNN, NONE }

    /** {@code helpers} of {@code candidates} conv/pool/LRN layers have a helper of {@code kind}. */
    public record Result(Kind kind, int helpers, int candidates) {
    }

    /**
     * Lets DL4J create helpers when layers are built: required for cuDNN on CUDA (without it the
     * GPU trainer runs without cuDNN). Call before the first network is built.
     */
    public static void allowDl4jHelperCreation() {
        System.setProperty(DISABLE_PROPERTY, "false");
    }

    /**
     * {@link #allowDl4jHelperCreation()} on CUDA only; on CPU DL4J's own attempt is useless (its
     * oneDNN check fails, logging an ERROR per layer about a missing Nd4jCpu$Environment class)
     * and {@link #enable} does the job instead. Call once ND4J is loaded, before building networks.
     */
    public static void beforeBuildingNetworks() {
        if ("CUDA".equalsIgnoreCase(backend())) {
            allowDl4jHelperCreation();
        }
    }

    /** The backend ND4J loaded: "CPU" or "CUDA". */
    public static String backend() {
        return Nd4j.getExecutioner().getEnvironmentInformation().getProperty("backend", "");
    }

    /** Whether the loaded libnd4j was built with oneDNN (its build info lists HAVE_ONEDNN). */
    public static boolean nativeHasOneDnn() {
        try {
            String info = NativeOpsHolder.getInstance().getDeviceNativeOps().buildInfo();
            return info != null && info.contains("HAVE_ONEDNN");
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    /**
     * {@link #enable(Layer[])} for a MultiLayerNetwork or ComputationGraph (grouped towers included),
     * and on CPU the process-wide native settings for the network's size ({@link NetworkSizeTuning}).
     */
    public static Result enable(Model model) {
        if ("CPU".equalsIgnoreCase(backend()) && (model instanceof MultiLayerNetwork || model instanceof ComputationGraph)) {
            swapInFastLayers(model);
        }
        Result result;
        if (model instanceof MultiLayerNetwork net) {
            result = enable(net.getLayers(), readsNetworkInputOnly(net), readsReluOutputOnly(net));
        } else if (model instanceof ComputationGraph graph) {
            result = enable(graph.getLayers(), readsNetworkInputOnly(graph), readsReluOutputOnly(graph));
        } else {
            throw new IllegalArgumentException("Neither MultiLayerNetwork nor ComputationGraph: " + model.getClass().getName());
        }
        if ("CPU".equalsIgnoreCase(backend())) {
            NetworkSizeTuning.apply(model); // malloc thresholds and BLAS threads for this network's size
        }
        return result;
    }

    /**
     * Gives each plain 2-D convolution, subsampling and LRN layer its native helper. On CPU this
     * is the oneDNN helper (which runs libnd4j's native op; oneDNN-accelerated when
     * {@link #nativeHasOneDnn()}, the plain libnd4j kernel otherwise); on CUDA the layer's own
     * cuDNN helper initialisation is re-run with helper creation allowed. A layer whose helper
     * cannot be made keeps DL4J's built-in path.
     */
    public static Result enable(Layer[] layers) {
        return enable(layers, Set.of(), Set.of());
    }

    /**
     * Layers whose input gradient nobody reads: those fed by the network's inputs alone, with no
     * input preprocessor and no dropout on their input (the first convolution). DL4J computes that
     * gradient and discards it; their {@link LeanConvHelper} skips it.
     */
    static Set<Layer> readsNetworkInputOnly(MultiLayerNetwork net) {
        Layer[] layers = net.getLayers();
        if (layers.length == 0 || net.getLayerWiseConfigurations().getInputPreProcess(0) != null || hasInputDropout(layers[0])) {
            return Set.of();
        }
        return Set.of(layers[0]);
    }

    static Set<Layer> readsNetworkInputOnly(ComputationGraph graph) {
        Set<Layer> result = Collections.newSetFromMap(new IdentityHashMap<>());
        GraphVertex[] vertices = graph.getVertices();
        for (GraphVertex v : vertices) {
            if (!(v instanceof LayerVertex lv) || lv.getLayerPreProcessor() != null || v.getInputVertices() == null
                    || hasInputDropout(lv.getLayer())) {
                continue;
            }
            boolean allInputs = true;
            for (VertexIndices in : v.getInputVertices()) {
                allInputs &= vertices[in.getVertexIndex()].isInputVertex();
            }
            if (allInputs) {
                result.add(lv.getLayer());
            }
        }
        return result;
    }

    /**
     * Layers fed by one layer with a plain ReLU activation, with no input preprocessor and no dropout
     * between them: the gradient they pass back is zeroed by that ReLU wherever their input is 0,
     * which their {@link ChannelLrnHelper} exploits.
     */
    static Set<Layer> readsReluOutputOnly(MultiLayerNetwork net) {
        Set<Layer> result = Collections.newSetFromMap(new IdentityHashMap<>());
        Layer[] layers = net.getLayers();
        for (int i = 1; i < layers.length; i++) {
            if (net.getLayerWiseConfigurations().getInputPreProcess(i) == null && !hasInputDropout(layers[i])
                    && hasPlainReluActivation(layers[i - 1])) {
                result.add(layers[i]);
            }
        }
        return result;
    }

    static Set<Layer> readsReluOutputOnly(ComputationGraph graph) {
        Set<Layer> result = Collections.newSetFromMap(new IdentityHashMap<>());
        GraphVertex[] vertices = graph.getVertices();
        for (GraphVertex v : vertices) {
            if (v instanceof LayerVertex lv && lv.getLayerPreProcessor() == null && !hasInputDropout(lv.getLayer())
                    && v.getInputVertices() != null && v.getInputVertices().length == 1
                    && isReluOutput(vertices[v.getInputVertices()[0].getVertexIndex()], vertices)) {
                result.add(lv.getLayer());
            }
        }
        return result;
    }

    /** A layer with a plain ReLU activation, or a concatenation of such layers' outputs (two towers' maps). */
    private static boolean isReluOutput(GraphVertex v, GraphVertex[] vertices) {
        if (v instanceof LayerVertex lv) {
            return hasPlainReluActivation(lv.getLayer());
        }
        if (v instanceof org.deeplearning4j.nn.graph.vertex.impl.MergeVertex && v.getInputVertices() != null) {
            for (VertexIndices in : v.getInputVertices()) {
                if (!isReluOutput(vertices[in.getVertexIndex()], vertices)) {
                    return false;
                }
            }
            return true;
        }
        return false;
    }

    private static boolean hasPlainReluActivation(Layer layer) {
        return layer.conf() != null && layer.conf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.BaseLayer conf
                && LeanConvHelper.derivativeFollowsFromOutput(conf.getActivationFn());
    }

    private static boolean hasInputDropout(Layer layer) {
        return layer.conf() == null || layer.conf().getLayer() == null || layer.conf().getLayer().getIDropout() != null;
    }

    private static Result enable(Layer[] layers, Set<Layer> inputGradientUnneeded, Set<Layer> fedByRelu) {
        String backend = backend();
        if ("CUDA".equalsIgnoreCase(backend)) {
            return enableCudnn(layers);
        }
        if (!"CPU".equalsIgnoreCase(backend)) {
            log.warn("Unknown ND4J backend '{}': layer helpers left off", backend);
            return new Result(Kind.NONE, 0, count(layers));
        }
        int helpers = 0;
        for (Layer layer : layers) {
            if (layer instanceof OutputReusingDenseLayer dense) {
                dense.setReuseOutput(true);
            }
            DataType dt = layer instanceof AbstractLayer<?> al && al.getDataType() != null ? al.getDataType() : Nd4j.defaultFloatingPointType();
            // Exact classes: subclasses (Deconvolution2D, 1-D conv/pooling, depthwise...) compute
            // something else than the conv2d/maxpool2d ops these helpers call.
            if (layer.getClass() == ConvolutionLayer.class) {
                boolean inputGradientNeeded = !inputGradientUnneeded.contains(layer);
                helpers += set(layer, ConvolutionLayer.class, type -> new LeanConvHelper(new MKLDNNConvHelper(type),
                        (ConvolutionLayer) layer, LeanConvHelper.DEFAULT_CHUNK_ELEMENTS, inputGradientNeeded), dt);
            } else if (layer.getClass() == SubsamplingLayer.class || layer.getClass() == NativeSubsamplingLayer.class) {
                helpers += set(layer, SubsamplingLayer.class, unused -> new NativeMaxPoolHelper(), dt);
            } else if (layer.getClass() == LocalResponseNormalization.class) {
                helpers += set(layer, LocalResponseNormalization.class, unused -> new ChannelLrnHelper(ChannelLrnHelper.DEFAULT_CHUNK_ELEMENTS, fedByRelu.contains(layer)), dt);
            }
        }
        Kind kind = helpers == 0 ? Kind.NONE : nativeHasOneDnn() ? Kind.ONEDNN : Kind.ND4J_NATIVE_OPS;
        return new Result(kind, helpers, count(layers));
    }

    /**
     * Puts a {@link NativeSubsamplingLayer} in the place of each plain subsampling layer of the
     * network, and an {@link OutputReusingDenseLayer} in the place of each plain fully connected
     * layer with a plain ReLU (in its layer array, MultiLayerNetwork's name map, ComputationGraph's
     * layer vertices), so that the pooling's forward pass uses its helper too and the dense layers'
     * backward passes do not recompute their forward passes.
     */
    static void swapInFastLayers(Model model) {
        Layer[] layers = model instanceof MultiLayerNetwork n ? n.getLayers() : ((ComputationGraph) model).getLayers();
        Map<Layer, Layer> swapped = new IdentityHashMap<>();
        for (int i = 0; i < layers.length; i++) {
            Layer replacement = null;
            if (layers[i].getClass() == SubsamplingLayer.class) {
                replacement = new NativeSubsamplingLayer((SubsamplingLayer) layers[i]);
            } else if (layers[i].getClass() == org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer.class
                    && hasPlainReluActivation(layers[i])) {
                replacement = new OutputReusingDenseLayer((org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer) layers[i]);
            }
            if (replacement != null) {
                swapped.put(layers[i], replacement);
                layers[i] = replacement; // getLayers() hands out the network's own array
            }
        }
        if (swapped.isEmpty()) {
            return;
        }
        try {
            if (model instanceof MultiLayerNetwork net) {
                Field mapField = MultiLayerNetwork.class.getDeclaredField("layerMap");
                mapField.setAccessible(true);
                @SuppressWarnings("unchecked")
                Map<String, Layer> byName = (Map<String, Layer>) mapField.get(net);
                byName.replaceAll((name, layer) -> swapped.getOrDefault(layer, layer));
            } else {
                Field layerField = LayerVertex.class.getDeclaredField("layer");
                layerField.setAccessible(true);
                for (GraphVertex v : ((ComputationGraph) model).getVertices()) {
                    if (v instanceof LayerVertex lv && swapped.containsKey(lv.getLayer())) {
                        layerField.set(lv, swapped.get(lv.getLayer()));
                    }
                }
            }
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("DL4J's network classes changed: cannot swap in the fast layer classes", e);
        }
    }

    /** Removes every helper (DL4J's built-in path); for tests and the bench. */
    public static int disable(Model model) {
        if (model instanceof Layer layer) {
            return disable(new Layer[] {layer});
        }
        return disable(model instanceof MultiLayerNetwork n ? n.getLayers() : ((ComputationGraph) model).getLayers());
    }

    /** Removes the helpers of these layers. */
    public static int disable(Layer... layers) {
        int removed = 0;
        for (Layer layer : layers) {
            if (layer instanceof OutputReusingDenseLayer dense) {
                dense.setReuseOutput(false);
            }
            Class<?> owner = ownerOf(layer);
            if (owner != null && layer.getHelper() != null) {
                writeHelper(layer, owner, null);
                removed++;
            }
        }
        return removed;
    }

    /**
     * Layers whose helper failed at least once: DL4J then silently runs its built-in path for them
     * (unless the layer sets {@code cudnnAllowFallback(false)}), e.g. after an out-of-memory error
     * from JavaCPP's {@code maxphysicalbytes} cap (4x -Xmx by default). Worth logging after a step.
     */
    public static int fallbacks(Model model) {
        Layer[] layers = model instanceof MultiLayerNetwork n ? n.getLayers() : ((ComputationGraph) model).getLayers();
        int failed = 0;
        for (Layer layer : layers) {
            Class<?> owner = ownerOf(layer);
            if (owner == null) {
                continue;
            }
            try {
                Field count = owner.getDeclaredField("helperCountFail");
                count.setAccessible(true);
                if (count.getInt(layer) > 0) {
                    failed++;
                }
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("DL4J " + owner.getSimpleName() + " has no 'helperCountFail' field any more", e);
            }
        }
        return failed;
    }

    private static Result enableCudnn(Layer[] layers) {
        if (!"false".equalsIgnoreCase(System.getProperty(DISABLE_PROPERTY))) {
            log.warn("{} is not false: DL4J built these layers without cuDNN; creating the helpers now. "
                    + "Call LayerHelpers.allowDl4jHelperCreation() before building networks.", DISABLE_PROPERTY);
            allowDl4jHelperCreation();
        }
        int helpers = 0;
        for (Layer layer : layers) {
            Class<?> owner = ownerOf(layer);
            if (owner == null) {
                continue;
            }
            if (layer.getHelper() == null) {
                try {
                    Method init = owner.getDeclaredMethod("initializeHelper");
                    init.setAccessible(true);
                    init.invoke(layer);
                } catch (ReflectiveOperationException | RuntimeException e) {
                    log.warn("No cuDNN helper for layer {}: {}", layer.getIndex(), e.toString());
                }
            }
            if (layer.getHelper() instanceof ConvolutionHelper conv && !(conv instanceof LeanConvHelper)) {
                writeHelper(layer, owner, new LeanConvHelper(conv, (ConvolutionLayer) layer));
            }
            if (layer.getHelper() != null) {
                helpers++;
            }
        }
        return new Result(helpers == 0 ? Kind.NONE : Kind.CUDNN, helpers, count(layers));
    }

    private static int count(Layer[] layers) {
        int n = 0;
        for (Layer layer : layers) {
            if (ownerOf(layer) != null) {
                n++;
            }
        }
        return n;
    }

    private static Class<?> ownerOf(Layer layer) {
        if (layer.getClass() == ConvolutionLayer.class) {
            return ConvolutionLayer.class;
        }
        if (layer.getClass() == SubsamplingLayer.class || layer.getClass() == NativeSubsamplingLayer.class) {
            return SubsamplingLayer.class;
        }
        if (layer.getClass() == LocalResponseNormalization.class) {
            return LocalResponseNormalization.class;
        }
        return null;
    }

    private static int set(Layer layer, Class<?> owner, Function<DataType, ? extends LayerHelper> factory, DataType dt) {
        try {
            writeHelper(layer, owner, factory.apply(dt));
            return 1;
        } catch (RuntimeException | LinkageError e) {
            log.warn("Layer {} keeps DL4J's built-in path: {}", layer.getIndex(), e.toString());
            return 0;
        }
    }

    /** Puts {@code helper} (null: none) on a conv, subsampling or LRN layer. */
    static void replaceHelper(Layer layer, LayerHelper helper) {
        Class<?> owner = ownerOf(layer);
        if (owner == null) {
            throw new IllegalArgumentException("No helper slot in " + layer.getClass().getName());
        }
        writeHelper(layer, owner, helper);
    }

    private static void writeHelper(Layer layer, Class<?> owner, Object helper) {
        try {
            Field field = owner.getDeclaredField("helper");
            field.setAccessible(true);
            field.set(layer, helper);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("DL4J " + owner.getSimpleName() + " has no 'helper' field any more", e);
        }
    }
}
