package org.alexkafka.trainer.engine.torch;

import java.io.IOException;
import java.lang.reflect.Method;
import java.net.BindException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.DoubleBuffer;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.alexkafka.trainer.distributed.GroupFailure;
import org.alexkafka.trainer.distributed.ProcessGroup;
import org.alexkafka.trainer.distributed.World;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.Backend;
import org.bytedeco.pytorch.IntOptional;
import org.bytedeco.pytorch.PrefixStore;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.Work;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A c10d process group over libtorch, as {@code torch.distributed.init_process_group} builds one:
 * a {@link TCPStore} served by rank 0 at the rendezvous address, Gloo for values on the CPU (the
 * loop's sums, and the gradients on CPU), and NCCL for the gradients when the engine is on CUDA.
 *
 * <p>Rank 0 binds the store's socket itself, to the rendezvous address only, and hands it to
 * libtorch ({@code masterListenFd}): libtorch alone would listen on every interface. Gloo's
 * connections bind the local address that routes to the rendezvous (127.0.0.1 for a group on one
 * host), or {@code GLOO_SOCKET_IFNAME}'s interface as in PyTorch.
 */
public final class TorchProcessGroup implements ProcessGroup {

  private static final Logger log = LoggerFactory.getLogger(TorchProcessGroup.class);

  /** Marks a decision rank 0 failed to take. */
  private static final String FAILED = "rank 0 failed: ";

  private final World world;
  private final List<Pointer> owned = new ArrayList<>();
  private final ServerSocketChannel listener; // rank 0: the store's socket, owned by libtorch once handed over
  private final TCPStore store;
  private final ProcessGroupGloo gloo;
  private final Backend gradients;
  private boolean closed;

  /**
   * Joins the group: blocks until every rank has joined, or fails after the world's timeout.
   *
   * @param cuda whether the engine's tensors are on a CUDA device (then its gradients go through NCCL)
   */
  public TorchProcessGroup(World world, boolean cuda) {
    this.world = world;
    TorchNatives.load();
    Milliseconds timeout = keep(new Milliseconds(world.timeout().toMillis()));
    ServerSocketChannel bound = world.leader() ? bindRendezvous(world) : null;
    this.listener = bound;
    try {
      TCPStoreOptions options = keep(new TCPStoreOptions());
      options.port((short) world.masterPort());
      options.isServer(world.leader());
      options.numWorkers(keep(new SizeTPointer(1)).put(world.size()));
      options.waitWorkers(true);
      options.timeout(timeout);
      if (bound != null) {
        options.masterListenFd(keep(new IntOptional(fileDescriptor(bound))));
      }
      log.info("rank {} of {}: joining the group at {}:{} (waiting up to {} s for every rank)", world.rank(), world.size(),
          world.masterAddr(), world.masterPort(), world.timeout().toSeconds());
      this.store = keep(call("join the group at " + world.masterAddr() + ":" + world.masterPort(),
          () -> new TCPStore(world.masterAddr(), options)));
      ProcessGroupGloo.Options glooOptions = keep(new ProcessGroupGloo.Options(timeout));
      glooOptions.devices().push_back(glooDevice(world));
      this.gloo = keep(call("set up Gloo", () -> new ProcessGroupGloo(keep(new PrefixStore("gloo", store)), world.rank(),
          world.size(), glooOptions)));
      this.gradients = cuda ? keep(call("set up NCCL", () -> TorchNccl.create(keep(new PrefixStore("nccl", store)), world)))
          : gloo;
      log.info("rank {} of {} joined: gradients through {}", world.rank(), world.size(), cuda ? "NCCL" : "Gloo");
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  @Override
  public int rank() {
    return world.rank();
  }

  @Override
  public int size() {
    return world.size();
  }

  /** The backend that sums the engine's gradients: NCCL on CUDA, Gloo on the CPU. */
  Backend gradientBackend() {
    return gradients;
  }

  @Override
  public void allReduceSum(double[] values) {
    call("sum values over the group", () -> {
      try (PointerScope scope = new PointerScope()) {
        Tensor t = Tensor.create(values, values.length);
        waitFor(gloo.allreduce(new TensorVector(t)));
        DoubleBuffer b = t.createBuffer();
        b.get(values);
      }
      return null;
    });
  }

  /** Sums {@code tensors} over the group in place, on the gradient backend (all launched, then all awaited). */
  void allReduceSum(Tensor[] tensors) {
    call("sum the gradients over the group", () -> {
      try (PointerScope scope = new PointerScope()) {
        Work[] works = new Work[tensors.length];
        for (int i = 0; i < tensors.length; i++) {
          works[i] = gradients.allreduce(new TensorVector(tensors[i]));
        }
        for (Work w : works) {
          waitFor(w);
        }
      }
      return null;
    });
  }

  /** Overwrites {@code tensors} with rank 0's, on the gradient backend. */
  void broadcastFromRankZero(Tensor[] tensors) {
    call("receive rank 0's parameters", () -> {
      try (PointerScope scope = new PointerScope()) {
        for (Tensor t : tensors) {
          waitFor(gradients.broadcast(new TensorVector(t)));
        }
      }
      return null;
    });
  }

  @Override
  public String decideOnRankZero(String key, Supplier<String> decision) {
    if (world.leader()) {
      String value;
      try {
        value = decision.get();
      } catch (RuntimeException e) {
        publish(key, FAILED + e.getMessage()); // the others fail now rather than after the timeout
        throw e;
      }
      publish(key, value);
      return value;
    }
    String value = call("wait for rank 0's " + key, () -> store.get_to_str(key));
    if (value.startsWith(FAILED)) {
      throw new GroupFailure("rank 0 failed (" + key + "): " + value.substring(FAILED.length()), null);
    }
    return value;
  }

  private void publish(String key, String value) {
    call("publish " + key, () -> {
      store.set(key, value);
      return null;
    });
  }

  @Override
  public void barrier() {
    call("meet the other ranks at the end", () -> {
      try (PointerScope scope = new PointerScope()) {
        waitFor(gloo.barrier());
      }
      return null;
    });
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
    if (listener != null) {
      try {
        listener.close();
      } catch (IOException e) {
        log.debug("closing the rendezvous socket: {}", e.getMessage());
      }
    }
  }

  private static void waitFor(Work work) {
    work._wait();
  }

  private <T> T call(String what, Supplier<T> action) {
    try {
      return action.get();
    } catch (GroupFailure e) {
      throw e;
    } catch (RuntimeException e) {
      throw new GroupFailure("rank " + world.rank() + " of " + world.size() + " could not " + what + ": " + firstLine(e)
          + " (a rank died, was stopped, or did not answer within " + world.timeout().toSeconds()
          + " s; restart every rank: they resume from the last checkpoint)", e);
    }
  }

  private static String firstLine(Throwable e) {
    String m = String.valueOf(e.getMessage());
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }

  private <P extends Pointer> P keep(P p) {
    p.retainReference();
    owned.add(p);
    return p;
  }

  /** Rank 0's store socket, bound to the rendezvous address only. */
  private static ServerSocketChannel bindRendezvous(World world) {
    InetSocketAddress at = new InetSocketAddress(world.masterAddr(), world.masterPort());
    if (at.isUnresolved()) {
      throw new IllegalArgumentException("the rendezvous address " + world.masterAddr() + " (MASTER_ADDR) does not resolve");
    }
    try {
      ServerSocketChannel ch = ServerSocketChannel.open();
      ch.setOption(java.net.StandardSocketOptions.SO_REUSEADDR, true);
      try {
        ch.bind(at, 128);
      } catch (BindException e) {
        ch.close();
        throw new IllegalArgumentException("rank 0 cannot serve the rendezvous at " + world.masterAddr() + ":"
            + world.masterPort() + ": " + e.getMessage() + " (a port in use, or an address not of this host; set "
            + "MASTER_ADDR/MASTER_PORT)");
      }
      return ch;
    } catch (IOException e) {
      throw new IllegalStateException("cannot open the rendezvous socket: " + e.getMessage(), e);
    }
  }

  /** The OS descriptor of a bound channel, for libtorch (needs --add-opens java.base/sun.nio.ch, as bin/alexkafka gives). */
  private static int fileDescriptor(ServerSocketChannel ch) {
    try {
      Method m = ch.getClass().getMethod("getFDVal");
      m.setAccessible(true);
      return (int) m.invoke(ch);
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new IllegalStateException("cannot hand the rendezvous socket to libtorch (" + e + "); start the JVM with "
          + "--add-opens java.base/sun.nio.ch=ALL-UNNAMED, as bin/alexkafka and the image do", e);
    }
  }

  /** Gloo's transport: GLOO_SOCKET_IFNAME's interface, or the local address that routes to the rendezvous. */
  private org.bytedeco.pytorch.gloo.Device glooDevice(World world) {
    String ifname = System.getenv("GLOO_SOCKET_IFNAME");
    if (ifname != null && !ifname.isBlank()) {
      return keep(ProcessGroupGloo.createDeviceForInterface(ifname.trim()));
    }
    return keep(ProcessGroupGloo.createDeviceForHostname(localAddressTowards(world.masterAddr(), world.masterPort())));
  }

  static String localAddressTowards(String host, int port) {
    try {
      InetAddress target = InetAddress.getByName(host);
      if (target.isLoopbackAddress()) {
        return target.getHostAddress();
      }
      try (DatagramSocket probe = new DatagramSocket()) {
        probe.connect(target, port); // no packet is sent: the kernel only picks the route
        return probe.getLocalAddress().getHostAddress();
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot find a route to the rendezvous " + host + ": " + e.getMessage(), e);
    }
  }
}
