package org.alexkafka.trainer.engine;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.alexkafka.trainer.model.AlexNetSpec;

/**
 * The paper's initialisation in {@link ParameterLayout}, drawn in Java so that it depends on the
 * spec's seed alone, not on an engine's random generator: weights N(0, initStd), biases 1 in
 * conv2, conv4, conv5, fc6 and fc7, 0 elsewhere. Each tensor has its own stream (seed, index), so
 * a layer's values do not depend on the sizes of the layers before it.
 */
public final class ParameterInit {

  private ParameterInit() {
  }

  public static Tensors of(AlexNetSpec spec) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    int index = 0;
    for (ParameterLayout.Entry e : ParameterLayout.of(spec)) {
      float[] v = new float[e.size()];
      if (e.weight()) {
        SplittableRandom r = new SplittableRandom(spec.seed() * 0x9E3779B97F4A7C15L + index);
        for (int i = 0; i < v.length; i++) {
          v[i] = (float) (gaussian(r) * spec.initStd());
        }
      } else {
        java.util.Arrays.fill(v, (float) e.biasInit());
      }
      out.put(e.name(), new Tensor(e.shape().clone(), v));
      index++;
    }
    return new Tensors(out);
  }

  /** A standard normal draw (Marsaglia's polar method). */
  private static double gaussian(SplittableRandom r) {
    double u;
    double v;
    double s;
    do {
      u = 2 * r.nextDouble() - 1;
      v = 2 * r.nextDouble() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s == 0);
    return u * Math.sqrt(-2 * Math.log(s) / s);
  }
}
