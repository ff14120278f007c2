package org.alexkafka.trainer.engine;

import java.util.Arrays;

/** A float32 tensor outside any engine: its shape and its values in row-major (C) order. */
public record Tensor(long[] shape, float[] data) {

  public Tensor {
    if (Arrays.stream(shape).reduce(1, Math::multiplyExact) != data.length) {
      throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " does not hold " + data.length + " values");
    }
  }

  public static Tensor zeros(long[] shape) {
    return new Tensor(shape.clone(), new float[Math.toIntExact(Arrays.stream(shape).reduce(1, Math::multiplyExact))]);
  }

  /** ||this - reference||₂ / ||reference||₂ (0 when both are zero). */
  public double normRelativeError(Tensor reference) {
    if (!Arrays.equals(shape, reference.shape)) {
      throw new IllegalArgumentException("shapes differ: " + Arrays.toString(shape) + " vs " + Arrays.toString(reference.shape));
    }
    double diff = 0;
    double norm = 0;
    for (int i = 0; i < data.length; i++) {
      double d = (double) data[i] - reference.data[i];
      diff += d * d;
      norm += (double) reference.data[i] * reference.data[i];
    }
    return norm == 0 ? (diff == 0 ? 0 : Double.POSITIVE_INFINITY) : Math.sqrt(diff / norm);
  }

  /** this - other, element by element. */
  public Tensor minus(Tensor other) {
    float[] out = new float[data.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = data[i] - other.data[i];
    }
    return new Tensor(shape.clone(), out);
  }

  /** Largest |a - b| / max(|b|, floor) over the elements: how far this is from {@code reference}. */
  public double maxRelativeError(Tensor reference, double floor) {
    if (!Arrays.equals(shape, reference.shape)) {
      throw new IllegalArgumentException("shapes differ: " + Arrays.toString(shape) + " vs " + Arrays.toString(reference.shape));
    }
    double worst = 0;
    for (int i = 0; i < data.length; i++) {
      double scale = Math.max(Math.abs(reference.data[i]), floor);
      worst = Math.max(worst, Math.abs(data[i] - reference.data[i]) / scale);
    }
    return worst;
  }
}
