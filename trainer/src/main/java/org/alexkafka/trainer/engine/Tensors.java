package org.alexkafka.trainer.engine;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.alexkafka.trainer.model.AlexNetSpec;

/** Named tensors in {@link ParameterLayout} order: an engine's parameters, momentum or gradients. */
public record Tensors(Map<String, Tensor> byName) {

  public Tensors {
    byName = Collections.unmodifiableMap(new LinkedHashMap<>(byName));
  }

  public Tensor get(String name) {
    Tensor t = byName.get(name);
    if (t == null) {
      throw new IllegalArgumentException("no tensor " + name + " among " + byName.keySet());
    }
    return t;
  }

  /** Zeros of every parameter's shape (fresh momentum). */
  public static Tensors zeros(AlexNetSpec spec) {
    Map<String, Tensor> m = new LinkedHashMap<>();
    for (ParameterLayout.Entry e : ParameterLayout.of(spec)) {
      m.put(e.name(), Tensor.zeros(e.shape()));
    }
    return new Tensors(m);
  }

  /** Throws unless these are exactly the parameters of {@code spec}, by name and shape. */
  public Tensors checkFits(AlexNetSpec spec) {
    List<ParameterLayout.Entry> layout = ParameterLayout.of(spec);
    if (!List.copyOf(byName.keySet()).equals(layout.stream().map(ParameterLayout.Entry::name).toList())) {
      throw new IllegalArgumentException("tensors " + byName.keySet() + " are not the parameters of " + spec);
    }
    for (ParameterLayout.Entry e : layout) {
      if (!java.util.Arrays.equals(byName.get(e.name()).shape(), e.shape())) {
        throw new IllegalArgumentException(e.name() + " has shape " + java.util.Arrays.toString(byName.get(e.name()).shape())
            + ", " + spec + " needs " + java.util.Arrays.toString(e.shape()));
      }
    }
    return this;
  }

  /** Each tensor's {@link Tensor#normRelativeError} against {@code reference}, by name. */
  public Map<String, Double> normRelativeErrors(Tensors reference) {
    Map<String, Double> out = new LinkedHashMap<>();
    byName.forEach((name, t) -> out.put(name, t.normRelativeError(reference.get(name))));
    return out;
  }

  /** this - other, tensor by tensor. */
  public Tensors minus(Tensors other) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    byName.forEach((name, t) -> out.put(name, t.minus(other.get(name))));
    return new Tensors(out);
  }

  /** The largest {@link Tensor#maxRelativeError} over all tensors. */
  public double maxRelativeError(Tensors reference, double floor) {
    double worst = 0;
    for (Map.Entry<String, Tensor> e : byName.entrySet()) {
      worst = Math.max(worst, e.getValue().maxRelativeError(reference.get(e.getKey()), floor));
    }
    return worst;
  }
}
