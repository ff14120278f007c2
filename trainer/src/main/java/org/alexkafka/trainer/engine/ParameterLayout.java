package org.alexkafka.trainer.engine;

import java.util.ArrayList;
import java.util.List;
import org.alexkafka.trainer.model.AlexNetSpec;

/**
 * The parameters of an AlexNet by engine-neutral name and shape: the names and layouts of a
 * PyTorch {@code nn.Sequential} AlexNet with grouped convolutions (conv weights [out, in/groups,
 * kh, kw], linear weights [out, in], fc6's input flattened in (channel, row, column) order).
 * Checkpoints and the engines' equality test speak this layout; each engine converts to its own.
 *
 * <p>Two towers: conv2, conv4 and conv5 have 2 groups (the first half of their output maps, tower
 * a, reads the first half of the input maps); conv1, conv3 and the fc layers see everything. LRN
 * works within a tower (an engine must not mix maps 47 and 48 of conv1 in the two-tower net).
 */
public final class ParameterLayout {

  /** One parameter: its name, shape, whether weight decay applies, and its initial value if constant. */
  public record Entry(String name, long[] shape, boolean weight, double biasInit) {

    public int size() {
      long n = 1;
      for (long d : shape) {
        n *= d;
      }
      return Math.toIntExact(n);
    }
  }

  private ParameterLayout() {
  }

  /** Every parameter of the network, in forward order: conv1.weight, conv1.bias, ..., fc8.bias. */
  public static List<Entry> of(AlexNetSpec spec) {
    int g = spec.towers();
    int side = spec.finalSide();
    List<Entry> out = new ArrayList<>();
    conv(out, "conv1", spec.conv1(), 3, AlexNetSpec.CONV1_KERNEL, 0);
    conv(out, "conv2", spec.conv2(), spec.conv1() / g, 5, 1);
    conv(out, "conv3", spec.conv3(), spec.conv2(), 3, 0);
    conv(out, "conv4", spec.conv4(), spec.conv3() / g, 3, 1);
    conv(out, "conv5", spec.conv5(), spec.conv4() / g, 3, 1);
    linear(out, "fc6", spec.fc(), (long) spec.conv5() * side * side, 1);
    linear(out, "fc7", spec.fc(), spec.fc(), 1);
    linear(out, "fc8", spec.classes(), spec.fc(), 0);
    return out;
  }

  /** Groups of a convolution in the layout: 2 for conv2, conv4 and conv5 of the two-tower net, else 1. */
  public static int groups(AlexNetSpec spec, String layer) {
    return spec.towers() == 2 && (layer.equals("conv2") || layer.equals("conv4") || layer.equals("conv5")) ? 2 : 1;
  }

  private static void conv(List<Entry> out, String name, int maps, int inPerGroup, int kernel, double bias) {
    out.add(new Entry(name + ".weight", new long[] {maps, inPerGroup, kernel, kernel}, true, Double.NaN));
    out.add(new Entry(name + ".bias", new long[] {maps}, false, bias));
  }

  private static void linear(List<Entry> out, String name, int outputs, long inputs, double bias) {
    out.add(new Entry(name + ".weight", new long[] {outputs, inputs}, true, Double.NaN));
    out.add(new Entry(name + ".bias", new long[] {outputs}, false, bias));
  }
}
