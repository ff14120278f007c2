package org.alexkafka.trainer.engine.torch;

import static org.bytedeco.pytorch.global.torch.cat;
import static org.bytedeco.pytorch.global.torch.cross_entropy;
import static org.bytedeco.pytorch.global.torch.cuda_device_count;
import static org.bytedeco.pytorch.global.torch.cuda_is_available;
import static org.bytedeco.pytorch.global.torch.local_response_norm;
import static org.bytedeco.pytorch.global.torch.manual_seed;
import static org.bytedeco.pytorch.global.torch.max_pool2d;
import static org.bytedeco.pytorch.global.torch.relu;
import static org.bytedeco.pytorch.global.torch.set_num_threads;
import static org.bytedeco.pytorch.global.torch.softmax;
import static org.bytedeco.pytorch.global.torch.zeros;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.alexkafka.trainer.engine.Batch;
import org.alexkafka.trainer.engine.InputMean;
import org.alexkafka.trainer.engine.PixelCrops;
import org.alexkafka.trainer.engine.Engine;
import org.alexkafka.trainer.engine.ParameterInit;
import org.alexkafka.trainer.engine.ParameterLayout;
import org.alexkafka.trainer.engine.Tensors;
import org.alexkafka.trainer.distributed.ProcessGroup;
import org.alexkafka.trainer.distributed.World;
import org.alexkafka.trainer.model.Paper;
import org.alexkafka.trainer.model.AlexNetSpec;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Conv2dImpl;
import org.bytedeco.pytorch.Conv2dOptions;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.LocalResponseNormOptions;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The libtorch engine (JavaCPP's pytorch presets), on the CPU or one CUDA device: the network of
 * {@link AlexNet} as torch modules named and shaped exactly as {@link ParameterLayout} (conv1 ..
 * conv5 as {@link Conv2dImpl} with 2 groups where the layout has them, fc6 .. fc8 as {@link
 * LinearImpl}), so conversion is a copy per tensor.
 *
 * <p>Semantics, as the DL4J engine: ReLU after every layer but fc8; the paper's LRN (k = 2, n =
 * 5, alpha = 1e-4 on the plain sum of squares: torch divides alpha by n, so it gets 5e-4), within
 * each tower in the two-tower net; max pooling 3/2; inverted dropout on fc6's and fc7's outputs in
 * train mode, its masks drawn after {@code manual_seed(stepSeed)}; mean cross-entropy of the
 * logits. The update is the paper's momentum SGD, by hand under a {@link NoGradGuard}.
 *
 * <p>Native memory: every call runs inside a {@link PointerScope}, which frees the temporaries'
 * tensors when it closes; what lives as long as the engine (modules, parameter and momentum
 * handles) holds an extra reference and is freed by {@link #close}. Not thread-safe (libtorch's
 * grad mode and RNG are per thread / global): one engine is driven by one thread.
 */
public final class TorchEngine implements Engine {

  private static final Logger log = LoggerFactory.getLogger(TorchEngine.class);

  private static final Pattern CUDA = Pattern.compile("cuda(?::(\\d+))?");
  private static final long[] POOL_KERNEL = {3, 3};
  private static final long[] POOL_STRIDE = {2, 2};
  private static final long[] NO_PADDING = {0, 0};
  private static final long[] NO_DILATION = {1, 1};

  private final AlexNetSpec spec;
  private final String deviceName;
  private final Device device;
  private final boolean cuda;
  private final List<ParameterLayout.Entry> layout;
  /** Everything that lives as long as the engine: released by close(). */
  private final List<Pointer> owned = new ArrayList<>();
  private final Module net;
  private final Conv2dImpl conv1;
  private final Conv2dImpl conv2;
  private final Conv2dImpl conv3;
  private final Conv2dImpl conv4;
  private final Conv2dImpl conv5;
  private final LinearImpl fc6;
  private final LinearImpl fc7;
  private final LinearImpl fc8;
  private final LocalResponseNormOptions lrn;
  /** The modules' parameters, in layout order (handles on the modules' own tensors). */
  private final Tensor[] params;
  /** The momentum buffers v, in layout order, on the device. */
  private final Tensor[] velocity;
  private final long parameterCount;
  private double learningRate = Paper.INITIAL_LEARNING_RATE;
  private boolean closed;
  /** The mean image of the 8-bit batches seen last, as planes [3, height x width] on the device. */
  private InputMean meanOnDevice;
  private Tensor meanPlanes;

  /**
   * A network of {@code spec} initialised with {@link ParameterInit#of} (so the init depends on
   * the spec's seed only) and zero momentum.
   *
   * @param device "cpu", "cuda" (= "cuda:0") or "cuda:N"
   */
  public TorchEngine(AlexNetSpec spec, String device) {
    this.spec = spec;
    String d = device == null ? "cpu" : device.trim().toLowerCase(java.util.Locale.ROOT);
    Matcher m = CUDA.matcher(d);
    if (d.equals("cpu")) {
      this.cuda = false;
      this.deviceName = "cpu";
    } else if (m.matches()) {
      this.cuda = true;
      this.deviceName = "cuda:" + (m.group(1) == null ? "0" : m.group(1));
    } else {
      throw new IllegalArgumentException("device must be cpu, cuda or cuda:N, not " + device);
    }
    TorchNatives.load();
    if (cuda) {
      if (!cuda_is_available()) {
        throw new IllegalArgumentException("device " + device + " asked, but libtorch sees no CUDA device (no GPU or driver,"
            + " or the CPU-only natives pytorch-*-linux-x86_64 instead of the -gpu build on the class path)");
      }
      int index = Integer.parseInt(deviceName.substring("cuda:".length()));
      int count = cuda_device_count();
      if (index >= count) {
        throw new IllegalArgumentException("device " + device + " asked, but libtorch sees " + count + " CUDA device(s)");
      }
    }
    int threads = TorchNatives.intraOpThreads();
    set_num_threads(threads);
    TorchNatives.holdBlasAtOneThread();
    try {
      this.layout = ParameterLayout.of(spec);
      try (PointerScope scope = new PointerScope()) {
        this.device = keep(new Device(deviceName));
        this.net = keep(new Module("alexnet"));
        int pad1 = spec.conv1Padding();
        this.conv1 = conv("conv1", 3, spec.conv1(), AlexNetSpec.CONV1_KERNEL, AlexNetSpec.CONV1_STRIDE, pad1);
        this.conv2 = conv("conv2", spec.conv1(), spec.conv2(), 5, 1, 2);
        this.conv3 = conv("conv3", spec.conv2(), spec.conv3(), 3, 1, 1);
        this.conv4 = conv("conv4", spec.conv3(), spec.conv4(), 3, 1, 1);
        this.conv5 = conv("conv5", spec.conv4(), spec.conv5(), 3, 1, 1);
        int side = spec.finalSide();
        this.fc6 = linear("fc6", (long) spec.conv5() * side * side, spec.fc());
        this.fc7 = linear("fc7", spec.fc(), spec.fc());
        this.fc8 = linear("fc8", spec.fc(), spec.classes());
        this.lrn = keep(new LocalResponseNormOptions((long) Paper.LRN_N));
        lrn.alpha().put(Paper.LRN_ALPHA * Paper.LRN_N); // torch: alpha / n * sum; the paper: alpha * sum
        lrn.beta().put(Paper.LRN_BETA);
        lrn.k().put(Paper.LRN_K);
        if (cuda) {
          net.to(this.device, false);
        }
        Conv2dImpl[] convs = {conv1, conv2, conv3, conv4, conv5};
        LinearImpl[] fcs = {fc6, fc7, fc8};
        this.params = new Tensor[layout.size()];
        this.velocity = new Tensor[layout.size()];
        long count = 0;
        for (int i = 0; i < layout.size(); i++) {
          int layer = i / 2;
          boolean weight = i % 2 == 0;
          Tensor p = layer < 5 ? (weight ? convs[layer].weight() : convs[layer].bias())
              : (weight ? fcs[layer - 5].weight() : fcs[layer - 5].bias());
          ParameterLayout.Entry e = layout.get(i);
          if (!Arrays.equals(p.shape(), e.shape())) {
            throw new IllegalStateException("torch's " + e.name() + " has shape " + Arrays.toString(p.shape())
                + ", the layout " + Arrays.toString(e.shape()));
          }
          params[i] = keep(p);
          velocity[i] = keep(zeros(e.shape(), p.options()));
          count += p.numel();
        }
        this.parameterCount = count;
      }
      load(ParameterInit.of(spec), null);
    } catch (RuntimeException | Error e) {
      close(); // what was made so far
      throw e;
    }
    log.info("torch engine: AlexNet {} on {}, {} parameters, {} intra-op thread(s)", spec, deviceName, parameterCount, threads);
  }

  @Override
  public String name() {
    return "torch";
  }

  @Override
  public String device() {
    return deviceName;
  }

  @Override
  public AlexNetSpec spec() {
    return spec;
  }

  /** On CUDA: the host copies 8-bit crops, the GPU converts them. */
  @Override
  public boolean convertsPixels() {
    return cuda;
  }

  @Override
  public long parameterCount() {
    return parameterCount;
  }

  @Override
  public void setLearningRate(double learningRate) {
    this.learningRate = learningRate;
  }

  /** The learning rate ε of the next steps. */
  public double learningRate() {
    return learningRate;
  }

  @Override
  public double trainStep(Batch batch, long stepSeed) {
    open();
    try (PointerScope scope = new PointerScope()) {
      net.zero_grad(true);
      double loss = forwardBackward(batch, stepSeed);
      try (NoGradGuard noGrad = new NoGradGuard()) {
        Scalar momentum = new Scalar(Paper.MOMENTUM);
        Scalar decay = new Scalar(-Paper.WEIGHT_DECAY * learningRate);
        Scalar step = new Scalar(-learningRate);
        for (int i = 0; i < params.length; i++) {
          Tensor w = params[i];
          Tensor v = velocity[i];
          Tensor g = w.grad();
          v.mul_(momentum);
          if (layout.get(i).weight()) {
            v.add_(w, decay);
          }
          v.add_(g, step);
          w.add_(v);
        }
      }
      net.zero_grad(true);
      return loss;
    }
  }

  @Override
  public double accumulateGradient(Batch batch, long stepSeed, double weight) {
    open();
    try (PointerScope scope = new PointerScope()) {
      manual_seed(stepSeed);
      net.train(true);
      Tensor loss = cross_entropy(logits(input(batch), true), labels(batch));
      loss.mul(new Scalar(weight)).backward(); // adds into the parameters' grad()
      return loss.item_double();
    }
  }

  @Override
  public void stepAccumulated(ProcessGroup group, double scale) {
    open();
    try (PointerScope scope = new PointerScope()) {
      Tensor[] sums = new Tensor[params.length];
      for (int i = 0; i < params.length; i++) {
        Tensor g = params[i].grad();
        sums[i] = g != null && g.defined() ? g : zeros(layout.get(i).shape(), params[i].options()); // no samples here
      }
      if (group.size() > 1) {
        groupOf(group).allReduceSum(sums);
      }
      try (NoGradGuard noGrad = new NoGradGuard()) {
        Scalar momentum = new Scalar(Paper.MOMENTUM);
        Scalar decay = new Scalar(-Paper.WEIGHT_DECAY * learningRate);
        Scalar step = new Scalar(-learningRate * scale);
        for (int i = 0; i < params.length; i++) {
          Tensor w = params[i];
          Tensor v = velocity[i];
          v.mul_(momentum);
          if (layout.get(i).weight()) {
            v.add_(w, decay);
          }
          v.add_(sums[i], step);
          w.add_(v);
        }
      }
      net.zero_grad(true);
    }
  }

  @Override
  public void synchronize(ProcessGroup group) {
    open();
    if (group.size() == 1) {
      return;
    }
    try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
      groupOf(group).broadcastFromRankZero(params);
      groupOf(group).broadcastFromRankZero(velocity);
    }
  }

  @Override
  public ProcessGroup joinGroup(World world) {
    return world.distributed() ? new TorchProcessGroup(world, cuda) : ProcessGroup.solo();
  }

  private static TorchProcessGroup groupOf(ProcessGroup group) {
    if (group instanceof TorchProcessGroup g) {
      return g;
    }
    throw new IllegalArgumentException("the torch engine sums gradients over a c10d group (TorchProcessGroup), not " + group);
  }

  @Override
  public Gradient gradient(Batch batch, long stepSeed) {
    open();
    try (PointerScope scope = new PointerScope()) {
      net.zero_grad(true);
      double loss = forwardBackward(batch, stepSeed);
      Map<String, org.alexkafka.trainer.engine.Tensor> out = new LinkedHashMap<>();
      for (int i = 0; i < params.length; i++) {
        out.put(layout.get(i).name(), toJava(params[i].grad(), layout.get(i)));
      }
      net.zero_grad(true);
      return new Gradient(loss, new Tensors(out));
    }
  }

  @Override
  public float[] predict(Batch batch) {
    open();
    try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
      net.eval();
      Tensor probabilities = softmax(logits(input(batch), false), 1);
      float[] out = toFloats(probabilities);
      net.train(true);
      return out;
    }
  }

  @Override
  public Map<String, float[]> kinkInputs(Batch batch) {
    open();
    try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
      net.eval();
      Map<String, float[]> out = new LinkedHashMap<>();
      Tensor x = relu(conv1.forward(input(batch)));
      out.put("conv1", toFloats(x));
      x = towerLrn(x);
      out.put("lrn1", toFloats(x));
      x = relu(conv2.forward(pool(x)));
      out.put("conv2", toFloats(x));
      x = towerLrn(x);
      out.put("lrn2", toFloats(x));
      x = relu(conv3.forward(pool(x)));
      out.put("conv3", toFloats(x));
      x = relu(conv4.forward(x));
      out.put("conv4", toFloats(x));
      x = relu(conv5.forward(x));
      out.put("conv5", toFloats(x));
      x = relu(fc6.forward(pool(x).flatten(1, -1)));
      out.put("fc6", toFloats(x));
      out.put("fc7", toFloats(relu(fc7.forward(x))));
      net.train(true);
      return out;
    }
  }

  @Override
  public Tensors parameters() {
    return copy(params);
  }

  @Override
  public Tensors momentum() {
    return copy(velocity);
  }

  @Override
  public void load(Tensors parameters, Tensors momentum) {
    open();
    parameters.checkFits(spec);
    if (momentum != null) {
      momentum.checkFits(spec);
    }
    try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
      for (int i = 0; i < params.length; i++) {
        ParameterLayout.Entry e = layout.get(i);
        org.alexkafka.trainer.engine.Tensor p = parameters.get(e.name());
        params[i].copy_(Tensor.create(p.data(), p.shape()));
        if (momentum == null) {
          velocity[i].zero_();
        } else {
          org.alexkafka.trainer.engine.Tensor v = momentum.get(e.name());
          velocity[i].copy_(Tensor.create(v.data(), v.shape()));
        }
      }
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (int i = owned.size() - 1; i >= 0; i--) {
      owned.get(i).deallocate();
    }
    owned.clear();
    TorchNatives.releaseBlas();
  }

  // ---- package-private: for the tests ------------------------------------------------------

  /**
   * conv1 + ReLU and then its LRN, in eval mode: {relu(conv1(x)), lrn(relu(conv1(x)))}, each
   * N x conv1 x side x side values in NCHW order (the two-tower test: LRN within a tower).
   */
  float[][] conv1AndLrn(Batch batch) {
    open();
    try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
      Tensor a = relu(conv1.forward(input(batch)));
      return new float[][] {toFloats(a), toFloats(towerLrn(a))};
    }
  }

  /** The float input the engine makes of {@code batch} (from 8-bit crops on the device, or the host's floats), NCHW. */
  float[] inputOf(Batch batch) {
    open();
    try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
      return toFloats(input(batch));
    }
  }

  // ---- the network ---------------------------------------------------------------------------

  /** Zeroed grads in, the batch's mean cross-entropy out, gradients in the parameters' grad(). */
  private double forwardBackward(Batch batch, long stepSeed) {
    manual_seed(stepSeed); // the dropout masks (CPU and CUDA generators)
    net.train(true);
    Tensor logits = logits(input(batch), true);
    Tensor loss = cross_entropy(logits, labels(batch));
    loss.backward();
    return loss.item_double();
  }

  private Tensor logits(Tensor x, boolean train) {
    x = relu(conv1.forward(x));
    x = pool(towerLrn(x));
    x = relu(conv2.forward(x));
    x = pool(towerLrn(x));
    x = relu(conv3.forward(x));
    x = relu(conv4.forward(x));
    x = relu(conv5.forward(x));
    x = pool(x);
    x = x.flatten(1, -1); // (channel, row, column): the layout of fc6's weights
    x = dropout(relu(fc6.forward(x)), train);
    x = dropout(relu(fc7.forward(x)), train);
    return fc8.forward(x);
  }

  /** LRN over the maps of each tower: in the two-tower net, each half of the channels on its own. */
  private Tensor towerLrn(Tensor x) {
    if (spec.towers() == 1) {
      return local_response_norm(x, lrn);
    }
    TensorVector halves = x.chunk(2, 1);
    return cat(new TensorVector(local_response_norm(halves.get(0), lrn), local_response_norm(halves.get(1), lrn)), 1);
  }

  private Tensor dropout(Tensor x, boolean train) {
    return train && spec.dropout() > 0 ? org.bytedeco.pytorch.global.torch.dropout(x, spec.dropout(), true) : x;
  }

  private static Tensor pool(Tensor x) {
    return max_pool2d(x, POOL_KERNEL, POOL_STRIDE, NO_PADDING, NO_DILATION, false);
  }

  private Conv2dImpl conv(String name, int in, int out, int kernel, int stride, int padding) {
    // ExpandingArray<2> options are LongPointers of 2 values: put(long[]) fills both
    // (put(a, b) would be put(index a, value b)).
    Conv2dOptions o = new Conv2dOptions(in, out, new LongPointer(new long[] {kernel, kernel}));
    o.stride().put(new long[] {stride, stride});
    o.padding().put(new LongPointer(new long[] {padding, padding}));
    o.dilation().put(new long[] {1, 1});
    o.groups().put(0, (long) ParameterLayout.groups(spec, name));
    o.bias().put(true);
    return keep(net.register_module(name, new Conv2dImpl(o)));
  }

  private LinearImpl linear(String name, long in, long out) {
    return keep(net.register_module(name, new LinearImpl(in, out)));
  }

  // ---- conversions -----------------------------------------------------------------------------

  private Tensor input(Batch batch) {
    if (batch.pixels() != null) {
      return inputFromPixels(batch.size(), batch.height(), batch.pixels());
    }
    Tensor x = Tensor.create(batch.features(), batch.shape());
    return cuda ? x.to(device, ScalarType.Float) : x;
  }

  /**
   * The float input made from 8-bit crops on the device: x = pixel − mean + lighting, in that
   * order, as {@link InputMean#fill} computes it on the host (so both give the same floats). The
   * mean's crop of each sample is one gather from the mean's planes: row cropY + i, column cropX +
   * j, or cropX + crop − 1 − j for a mirrored crop (its pixels are already mirrored).
   */
  private Tensor inputFromPixels(int n, int crop, PixelCrops p) {
    InputMean mean = p.mean();
    Tensor planes = meanPlanes(mean);
    long[] rows = new long[n * crop];
    long[] cols = new long[n * crop];
    for (int b = 0; b < n; b++) {
      for (int i = 0; i < crop; i++) {
        rows[b * crop + i] = p.cropY()[b] + i;
        cols[b * crop + i] = p.cropX()[b] + (p.mirrored()[b] ? crop - 1 - i : i);
      }
    }
    Tensor at = onDevice(Tensor.create(rows, n, crop, 1)).mul(new Scalar((long) mean.width()))
        .add(onDevice(Tensor.create(cols, n, 1, crop))); // [n, crop, crop]: where each value's mean lies in a plane
    Tensor meanCrops = planes.index_select(1, at.view(-1)).view(3, n, crop, crop).permute(1, 0, 2, 3);
    Tensor pixels = onDevice(Tensor.create(p.pixels(), false, n, crop, crop, 3)); // uint8, NHWC
    Tensor x = pixels.permute(0, 3, 1, 2).contiguous().to(ScalarType.Float);
    Tensor lighting = onDevice(Tensor.create(p.lighting(), n, 3, 1, 1));
    return x.sub(meanCrops).add(lighting).contiguous();
  }

  private Tensor onDevice(Tensor t) {
    return cuda ? t.to(device, t.scalar_type().intern()) : t;
  }

  /** The mean's planes [3, height x width] on the device, uploaded once per mean image. */
  private Tensor meanPlanes(InputMean mean) {
    if (mean != meanOnDevice) {
      float[] all = new float[3 * mean.width() * mean.height()];
      for (int c = 0; c < 3; c++) {
        System.arraycopy(mean.plane(c), 0, all, c * mean.width() * mean.height(), mean.width() * mean.height());
      }
      Tensor t = keep(onDevice(Tensor.create(all, 3, (long) mean.width() * mean.height())));
      if (meanPlanes != null) {
        owned.remove(meanPlanes);
        meanPlanes.releaseReference();
      }
      meanPlanes = t;
      meanOnDevice = mean;
    }
    return meanPlanes;
  }

  private Tensor labels(Batch batch) {
    long[] y = new long[batch.size()];
    for (int i = 0; i < y.length; i++) {
      int label = batch.labels()[i];
      if (label < 0 || label >= spec.classes()) {
        throw new IllegalArgumentException("label " + label + " of sample " + i + " is not one of " + spec.classes() + " classes");
      }
      y[i] = label;
    }
    Tensor t = Tensor.create(y, y.length);
    return cuda ? t.to(device, ScalarType.Long) : t;
  }

  private Tensors copy(Tensor[] tensors) {
    open();
    try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
      Map<String, org.alexkafka.trainer.engine.Tensor> out = new LinkedHashMap<>();
      for (int i = 0; i < tensors.length; i++) {
        out.put(layout.get(i).name(), toJava(tensors[i], layout.get(i)));
      }
      return new Tensors(out);
    }
  }

  private static org.alexkafka.trainer.engine.Tensor toJava(Tensor t, ParameterLayout.Entry e) {
    if (t == null || !t.defined()) {
      throw new IllegalStateException(e.name() + " has no value (no gradient reached it?)");
    }
    return new org.alexkafka.trainer.engine.Tensor(e.shape().clone(), toFloats(t));
  }

  /** The values of a float32 tensor in row-major order (copied to the CPU when on CUDA). */
  private static float[] toFloats(Tensor t) {
    Tensor c = t.detach().cpu().contiguous();
    ScalarType type = c.scalar_type().intern();
    if (type != ScalarType.Float) {
      throw new IllegalStateException("expected a float32 tensor, got " + type);
    }
    float[] out = new float[Math.toIntExact(c.numel())];
    FloatBuffer b = c.createBuffer();
    b.get(out);
    return out;
  }

  private <P extends Pointer> P keep(P p) {
    p.retainReference(); // survives the PointerScope it was made in; close() frees it
    owned.add(p);
    return p;
  }

  private void open() {
    if (closed) {
      throw new IllegalStateException("the torch engine is closed");
    }
  }
}
