package org.alexkafka.trainer.engine.dl4j;

import org.alexkafka.trainer.engine.dl4j.speed.MallocTuning;
import org.alexkafka.trainer.engine.dl4j.speed.NativeBuildSelector;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.alexkafka.trainer.engine.Batch;
import org.alexkafka.trainer.engine.Engine;
import org.alexkafka.trainer.engine.ParameterLayout;
import org.alexkafka.trainer.engine.Tensor;
import org.alexkafka.trainer.engine.Tensors;
import org.alexkafka.trainer.model.AlexNetSpec;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The DL4J/ND4J engine: the {@link AlexNet} graph with the fast layer helpers of {@code speed},
 * on one device or data-parallel over several ({@link DataParallel}).
 *
 * <p>Conversion to {@link ParameterLayout} is a matter of slicing: DL4J keeps all parameters in
 * one flat vector, a convolution's weights [out, in, kh, kw] in C order and a dense layer's [in,
 * out] in Fortran order, which is the same memory as the layout's [out, in] in C order. The
 * updater's momentum vector and the gradient vector are laid out like the parameters. In the
 * two-tower graph a layer's two halves (conv2a, conv2b) are the layout's first and second half of
 * the output maps, i.e. of the tensor.
 */
public final class Dl4jEngine implements Engine {

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Dl4jEngine.class);

  /** Where one layout tensor lives in DL4J's flat vector: one slice per tower part. */
  private record Slices(ParameterLayout.Entry entry, long[] offsets, int partLength) {
  }

  private final AlexNetSpec spec;
  private final ComputationGraph net;
  private final DataParallel parallel;
  private final List<Slices> slices;

  /** A fresh network (DL4J's own seeded init of the paper's distributions) on {@code devices} devices. */
  public Dl4jEngine(AlexNetSpec spec, int devices) {
    this(spec, AlexNet.build(spec), devices);
  }

  /** Wraps an existing network of {@code spec}. */
  public Dl4jEngine(AlexNetSpec spec, ComputationGraph net, int devices) {
    this.spec = spec;
    this.net = net;
    net.getUpdater(); // creates the momentum vector
    this.slices = locate(spec, net);
    this.parallel = devices > 1 ? new DataParallel(net, devices) : null;
    log.info("dl4j engine: ND4J's {} native build; {}", System.getProperty(NativeBuildSelector.EXTENSION_PROPERTY, "default"),
        MallocTuning.applyOnce());
  }

  /** The DL4J network (the speed bench and the helpers' tests reach into it). */
  public ComputationGraph network() {
    return net;
  }

  @Override
  public String name() {
    return "dl4j";
  }

  @Override
  public String device() {
    return parallel == null ? "cpu" : "cpu x" + parallel.workers();
  }

  @Override
  public AlexNetSpec spec() {
    return spec;
  }

  @Override
  public long parameterCount() {
    return net.numParams();
  }

  @Override
  public void setLearningRate(double learningRate) {
    net.setLearningRate(learningRate);
    if (parallel != null) {
      parallel.setLearningRate(learningRate);
    }
  }

  @Override
  public double trainStep(Batch batch, long stepSeed) {
    DataSet data = dataSet(batch);
    // the data loss: PaperWeightDecay adds nothing to DL4J's score; a network restored from an older checkpoint (DL4J's
    // L2Regularization) adds 0.5·λ·Σw² of the weights before the update, taken off exactly
    double regularization = net.calcRegularizationScore(true);
    double score;
    if (parallel != null) {
      score = parallel.fit(data, stepSeed);
    } else {
      Nd4j.getRandom().setSeed(stepSeed); // dropout masks depend on the step's seed only
      net.fit(data);
      score = net.score();
    }
    return score - regularization;
  }

  @Override
  public Gradient gradient(Batch batch, long stepSeed) {
    DataSet data = dataSet(batch);
    Nd4j.getRandom().setSeed(stepSeed);
    net.setInputs(data.getFeatures());
    net.setLabels(data.getLabels());
    net.computeGradientAndScore();
    float[] flat = net.getGradientsViewArray().toFloatVector();
    float perSample = 1f / batch.size(); // DL4J sums over the batch here; its updater divides by the batch size
    for (int i = 0; i < flat.length; i++) {
      flat[i] *= perSample;
    }
    double loss = net.score() - net.calcRegularizationScore(true);
    net.clearLayersStates();
    return new Gradient(loss, toLayout(flat));
  }

  @Override
  public float[] predict(Batch batch) {
    INDArray out = net.outputSingle(false, features(batch));
    return Nd4j.toFlattened('c', out.castTo(DataType.FLOAT)).toFloatVector();
  }

  @Override
  public java.util.Map<String, float[]> kinkInputs(Batch batch) {
    java.util.Map<String, INDArray> acts = net.feedForward(features(batch), false);
    java.util.Map<String, float[]> out = new java.util.LinkedHashMap<>();
    java.util.Set<String> layers = new java.util.LinkedHashSet<>(RELU_LAYERS);
    layers.addAll(POOLED_LAYERS);
    for (String layer : layers) {
      INDArray a = acts.containsKey(layer) ? acts.get(layer)
          : Nd4j.concat(1, acts.get(layer + "a"), acts.get(layer + "b")); // the two towers' halves, as one grouped layer
      out.put(layer, Nd4j.toFlattened('c', a.castTo(DataType.FLOAT)).toFloatVector());
    }
    net.clearLayersStates();
    return out;
  }

  @Override
  public Tensors parameters() {
    return toLayout(net.params().toFloatVector());
  }

  @Override
  public Tensors momentum() {
    return toLayout(net.getUpdater().getStateViewArray().toFloatVector());
  }

  @Override
  public void load(Tensors parameters, Tensors momentum) {
    parameters.checkFits(spec);
    net.params().assign(Nd4j.create(fromLayout(parameters), 1, net.numParams()));
    INDArray state = net.getUpdater().getStateViewArray();
    if (momentum == null) {
      state.assign(0);
    } else {
      momentum.checkFits(spec);
      state.assign(Nd4j.create(fromLayout(momentum), state.shape()));
    }
  }

  @Override
  public void close() {
    if (parallel != null) {
      parallel.close();
    }
  }

  private Tensors toLayout(float[] flat) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (Slices s : slices) {
      float[] v = new float[s.entry().size()];
      for (int part = 0; part < s.offsets().length; part++) {
        System.arraycopy(flat, Math.toIntExact(s.offsets()[part]), v, part * s.partLength(), s.partLength());
      }
      out.put(s.entry().name(), new Tensor(s.entry().shape().clone(), v));
    }
    return new Tensors(out);
  }

  private float[] fromLayout(Tensors tensors) {
    float[] flat = new float[Math.toIntExact(net.numParams())];
    for (Slices s : slices) {
      float[] v = tensors.get(s.entry().name()).data();
      for (int part = 0; part < s.offsets().length; part++) {
        System.arraycopy(v, part * s.partLength(), flat, Math.toIntExact(s.offsets()[part]), s.partLength());
      }
    }
    return flat;
  }

  /** Finds every layout tensor's slices of the flat parameter vector (by the views' offsets into it). */
  private static List<Slices> locate(AlexNetSpec spec, ComputationGraph net) {
    INDArray flat = net.params();
    List<Slices> out = new ArrayList<>();
    long covered = 0;
    for (ParameterLayout.Entry e : ParameterLayout.of(spec)) {
      String layer = e.name().substring(0, e.name().indexOf('.'));
      String key = e.name().endsWith(".weight") ? "W" : "b";
      boolean split = spec.towers() == 2 && layer.startsWith("conv");
      String[] parts = split ? new String[] {layer + "a", layer + "b"} : new String[] {layer};
      long[] offsets = new long[parts.length];
      int partLength = e.size() / parts.length;
      for (int i = 0; i < parts.length; i++) {
        Layer l = net.getLayer(parts[i]);
        INDArray p = l.getParam(key);
        if (p.length() != partLength) {
          throw new IllegalStateException(parts[i] + "_" + key + " has " + p.length() + " values, the layout expects " + partLength);
        }
        offsets[i] = p.offset() - flat.offset();
        covered += partLength;
      }
      out.add(new Slices(e, offsets, partLength));
    }
    if (covered != net.numParams()) {
      throw new IllegalStateException("the layout covers " + covered + " of the network's " + net.numParams() + " parameters");
    }
    return out;
  }

  private DataSet dataSet(Batch batch) {
    INDArray labels = Nd4j.zeros(DataType.FLOAT, batch.size(), spec.classes());
    for (int i = 0; i < batch.size(); i++) {
      labels.putScalar(i, batch.labels()[i], 1f);
    }
    return new DataSet(features(batch), labels);
  }

  private static INDArray features(Batch batch) {
    return Nd4j.create(batch.toFeatures(), batch.shape(), 'c');
  }
}
