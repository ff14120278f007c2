package org.alexkafka.trainer.engine;

import org.alexkafka.trainer.engine.dl4j.Dl4jEngine;
import org.alexkafka.trainer.engine.torch.TorchEngine;
import org.alexkafka.trainer.model.AlexNetSpec;

/** Creates the engine a run asks for, with freshly initialised parameters. */
public final class Engines {

  private Engines() {
  }

  /**
   * @param device "cpu", "cuda" or "cuda:N" (CUDA: torch only)
   * @param devices DL4J's in-process data-parallel workers (torch trains one device per process)
   */
  public static Engine create(EngineKind kind, AlexNetSpec spec, String device, int devices) {
    return switch (kind) {
      case DL4J -> {
        if (!device.equals("cpu")) {
          throw new IllegalArgumentException("the dl4j engine runs on the CPU here (device " + device
              + " asked); use --engine torch for CUDA");
        }
        yield new Dl4jEngine(spec, devices);
      }
      case TORCH -> {
        if (devices != 1) {
          throw new IllegalArgumentException("the torch engine trains on one device per process (" + devices
              + " devices asked); run one rank per device instead");
        }
        yield new TorchEngine(spec, device);
      }
    };
  }

  /** An engine holding {@code parameters} and {@code momentum} (e.g. a checkpoint's, saved by any engine). */
  public static Engine restore(EngineKind kind, AlexNetSpec spec, String device, int devices, Tensors parameters,
                               Tensors momentum) {
    Engine engine = create(kind, spec, device, devices);
    engine.load(parameters, momentum);
    return engine;
  }
}
