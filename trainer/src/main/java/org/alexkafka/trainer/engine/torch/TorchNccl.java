package org.alexkafka.trainer.engine.torch;

import org.alexkafka.trainer.distributed.World;
import org.bytedeco.pytorch.Backend;
import org.bytedeco.pytorch.Store;
import org.bytedeco.pytorch.nccl.ProcessGroupNCCL;

/**
 * NCCL's process group, in a class of its own: its natives (libjnitorch_nccl) come only with the
 * GPU build (-Pgpu), so nothing on the CPU path may load this class.
 */
final class TorchNccl {

  private TorchNccl() {
  }

  static Backend create(Store store, World world) {
    return new ProcessGroupNCCL(store, world.rank(), world.size());
  }
}
