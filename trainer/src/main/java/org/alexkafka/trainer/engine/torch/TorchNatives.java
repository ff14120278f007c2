package org.alexkafka.trainer.engine.torch;

import java.io.File;
import java.io.IOException;
import java.net.URL;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.Loader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads libtorch (JavaCPP's pytorch presets) safely, once per process.
 *
 * <p>The snag: the presets link {@code c10, torch, torch_cpu} in that order, and JavaCPP unpacks
 * each library into its cache only when it loads it. With an empty cache, {@code libtorch.so}
 * (whose only dependency is {@code libtorch_cpu.so}, found through {@code $ORIGIN}) is loaded
 * while {@code libtorch_cpu.so} is not yet unpacked next to it, so the dynamic linker takes the
 * system's (Debian's python3-torch 1.13 installs one in /usr/lib/x86_64-linux-gnu): two libtorch
 * versions in one process, SIGSEGV. Unpacking every library of the presets into the cache before
 * {@link Loader#load} runs makes {@code $ORIGIN} find the right files whatever the order.
 *
 * <p>ND4J (built on JavaCPP 1.5.8, running on 1.5.13) loads side by side: its natives live in
 * their own cache folders and have their own names; both take libopenblas.so.0 from the same
 * openblas jar.
 */
public final class TorchNatives {

  private static final Logger log = LoggerFactory.getLogger(TorchNatives.class);

  /** Everything libjnitorch needs from the presets' jar, dependencies first (the CUDA ones only in the -gpu build). */
  private static final String[] LIBRARIES = {
      "libgomp.so.1", "libc10.so", "libtorch_cpu.so", "libc10_cuda.so", "libtorch_cuda.so", "libtorch.so", "libjnitorch.so"};

  private static volatile boolean loaded;
  /** Open engines holding OpenBLAS at one thread, and its thread count before the first of them. */
  private static int blasHolders;
  private static int blasThreadsBefore;

  private TorchNatives() {
  }

  /** Unpacks the libraries (if not yet in the cache) and loads libtorch; idempotent. */
  public static void load() {
    if (loaded) {
      return;
    }
    synchronized (TorchNatives.class) {
      if (loaded) {
        return;
      }
      long t0 = System.nanoTime();
      List<String> cached = cacheLibraries();
      // Loader.load on the global class also runs its static initialiser; nothing of libtorch is touched before.
      Loader.load(org.bytedeco.pytorch.global.torch.class);
      loaded = true;
      log.info("libtorch loaded in {} ms ({} unpacked before loading: {})", (System.nanoTime() - t0) / 1_000_000,
          cached.size(), cached);
    }
  }

  /** Unpacks the presets' native libraries of this platform into JavaCPP's cache; returns those found. */
  static List<String> cacheLibraries() {
    String folder = nativeFolder();
    List<String> out = new ArrayList<>();
    if (folder == null) {
      return out; // no natives jar on the class path: let Loader report it
    }
    for (String lib : LIBRARIES) {
      URL url = TorchNatives.class.getResource(folder + lib);
      if (url == null) {
        continue;
      }
      try {
        File f = Loader.cacheResource(url);
        if (f != null) {
          out.add(lib);
        }
      } catch (IOException e) {
        throw new IllegalStateException("cannot unpack " + url + " into JavaCPP's cache", e);
      }
    }
    return out;
  }

  /**
   * The folder of the natives JavaCPP will load: {@code /org/bytedeco/pytorch/<platform><extension>/}
   * (extension "-gpu" when {@code org.bytedeco.javacpp.platform.extension} asks for it and that jar is
   * present), else {@code <platform>}; null when neither is on the class path.
   */
  static String nativeFolder() {
    String platform = Loader.getPlatform();
    String extension = System.getProperty("org.bytedeco.javacpp.platform.extension", "");
    List<String> candidates = new ArrayList<>();
    if (!extension.isEmpty()) {
      candidates.add(platform + extension);
    }
    candidates.add(platform);
    for (String c : candidates) {
      String folder = "/org/bytedeco/pytorch/" + c + "/";
      if (TorchNatives.class.getResource(folder + "libjnitorch.so") != null) {
        return folder;
      }
    }
    return null;
  }

  /**
   * Holds OpenBLAS (libtorch_cpu's BLAS: the fc layers' matrix products) at one thread while a
   * torch engine is open. OpenBLAS runs its own pthreads pool beside libtorch's OpenMP intra-op
   * pool, and each pool's idle threads spin while the other computes: on 2 cores the small
   * profile's step at batch 32 took 88 ms with OpenBLAS's default threads and 26 ms with one (the
   * paper profile, conv-bound, the same either way). Left alone when OPENBLAS_NUM_THREADS is set.
   * The previous count comes back when the last engine closes (ND4J shares this OpenBLAS).
   */
  static synchronized void holdBlasAtOneThread() {
    if (System.getenv("OPENBLAS_NUM_THREADS") != null) {
      return;
    }
    if (blasHolders++ == 0) {
      int before = org.bytedeco.openblas.presets.openblas.blas_get_num_threads();
      blasThreadsBefore = before > 0 ? before : Runtime.getRuntime().availableProcessors();
      org.bytedeco.openblas.presets.openblas.blas_set_num_threads(1);
    }
  }

  /** The counterpart of {@link #holdBlasAtOneThread}, from an engine's close(). */
  static synchronized void releaseBlas() {
    if (System.getenv("OPENBLAS_NUM_THREADS") != null || blasHolders == 0) {
      return;
    }
    if (--blasHolders == 0) {
      org.bytedeco.openblas.presets.openblas.blas_set_num_threads(blasThreadsBefore);
    }
  }

  /** The intra-op thread count: env OMP_NUM_THREADS when set to a positive number, else the available processors. */
  static int intraOpThreads() {
    String env = System.getenv("OMP_NUM_THREADS");
    if (env != null && !env.isBlank()) {
      try {
        int n = Integer.parseInt(env.trim());
        if (n > 0) {
          return n;
        }
      } catch (NumberFormatException ignored) {
        // fall through
      }
    }
    return Runtime.getRuntime().availableProcessors();
  }
}
