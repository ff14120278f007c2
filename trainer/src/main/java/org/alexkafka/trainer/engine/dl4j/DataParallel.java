package org.alexkafka.trainer.engine.dl4j;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.alexkafka.trainer.engine.dl4j.speed.LayerHelpers;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Synchronous data-parallel training over N workers (one per GPU with ND4J CUDA; threads on CPU),
 * equivalent to one step on the whole (global) batch:
 *
 * <p>The global batch of B samples is cut into N shards. Every worker starts the step from the
 * master's parameters w and velocities v, and takes the paper's step on its shard i
 * (w_i = w + v_i, v_i = 0.9 v − 0.0005 ε w − ε g_i, with g_i the mean gradient of the shard).
 * The master then takes the shard-size-weighted average of the workers' w_i and v_i. Since the
 * step is linear in g, that average is exactly the step with g = the mean gradient of the global
 * batch: the same as one device with batch B and the same ε. So the paper's 128 is the GLOBAL
 * batch (each of N workers computes 128/N), and the learning rate does not change with N.
 * This is ParallelWrapper's parameter averaging at frequency 1 with updater averaging, written
 * out so that the step is deterministic and the trainer knows exactly which samples were trained.
 *
 * <p>Dropout masks come from ND4J's per-thread generator, re-seeded per (step, worker).
 */
public final class DataParallel implements AutoCloseable {

  private final ComputationGraph master;
  private final List<ExecutorService> threads = new ArrayList<>();
  private final List<ComputationGraph> replicas = new ArrayList<>();

  public DataParallel(ComputationGraph master, int workers) {
    this.master = master;
    master.getUpdater(); // creates the master's updater state
    int devices = Math.max(1, Nd4j.getAffinityManager().getNumberOfDevices());
    for (int i = 0; i < workers; i++) {
      int device = i % devices;
      ExecutorService t = Executors.newSingleThreadExecutor(r -> {
        Thread th = new Thread(r, "trainer-worker-" + device);
        th.setDaemon(true);
        return th;
      });
      threads.add(t);
      // each replica is created on its worker's thread, so with CUDA it lives on that device
      replicas.add(call(t.submit(() -> {
        if (devices > 1) {
          Nd4j.getAffinityManager().unsafeSetDevice(device);
        }
        ComputationGraph replica = master.clone();
        LayerHelpers.enable(replica); // clone() does not copy the layers' helpers
        replica.getUpdater();
        return replica;
      })));
    }
  }

  public int workers() {
    return replicas.size();
  }

  public List<ComputationGraph> replicas() {
    return replicas;
  }

  /** Sets the learning rate of every replica (each has its own copy of the updater configuration). */
  public void setLearningRate(double lr) {
    List<Future<?>> done = new ArrayList<>();
    for (int i = 0; i < replicas.size(); i++) {
      ComputationGraph replica = replicas.get(i);
      done.add(threads.get(i).submit(() -> replica.setLearningRate(lr)));
    }
    done.forEach(DataParallel::call);
  }

  /** One synchronous step on the global batch; returns the batch's mean score (loss incl. L2 term). */
  public double fit(DataSet batch, long stepSeed) {
    int n = batch.numExamples();
    int shards = Math.min(replicas.size(), n);
    INDArray params = master.params();
    INDArray state = master.getUpdater().getStateViewArray();
    List<Future<Double>> done = new ArrayList<>();
    int[] sizes = new int[shards];
    for (int i = 0; i < shards; i++) {
      int from = (int) ((long) n * i / shards);
      int to = (int) ((long) n * (i + 1) / shards);
      sizes[i] = to - from;
      DataSet shard = new DataSet(batch.getFeatures().get(NDArrayIndex.interval(from, to)).dup(),
          batch.getLabels().get(NDArrayIndex.interval(from, to)).dup());
      ComputationGraph replica = replicas.get(i);
      long seed = stepSeed * 1_000_003L + i;
      done.add(threads.get(i).submit(() -> {
        replica.params().assign(params);
        replica.getUpdater().getStateViewArray().assign(state);
        Nd4j.getRandom().setSeed(seed);
        replica.fit(shard);
        return replica.score();
      }));
    }
    double score = 0;
    for (int i = 0; i < shards; i++) {
      score += call(done.get(i)) * sizes[i] / n;
    }
    params.assign(0);
    state.assign(0);
    for (int i = 0; i < shards; i++) {
      double weight = (double) sizes[i] / n;
      params.addi(replicas.get(i).params().mul(weight));
      state.addi(replicas.get(i).getUpdater().getStateViewArray().mul(weight));
    }
    return score;
  }

  private static <T> T call(Future<T> f) {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted during a data-parallel step", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("a data-parallel worker failed: " + e.getCause(), e.getCause());
    }
  }

  @Override
  public void close() {
    threads.forEach(ExecutorService::shutdownNow);
  }
}
