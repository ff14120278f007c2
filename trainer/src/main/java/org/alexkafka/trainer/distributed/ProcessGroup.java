package org.alexkafka.trainer.distributed;

import java.util.function.Supplier;

/**
 * The ranks of a data-parallel run, as the training loop sees them: sums over all ranks (c10d's
 * all-reduce) and values that rank 0 decides for everyone (an epoch's end offsets, an evaluation's
 * outcome). The gradients themselves are summed by the engine, on its own tensors ({@link
 * org.alexkafka.trainer.engine.Engine#stepAccumulated}).
 *
 * <p>Every rank makes the same calls in the same order; a rank that dies makes the others' next
 * call fail with a {@link GroupFailure}, never hang past the group's timeout.
 */
public interface ProcessGroup extends AutoCloseable {

  int rank();

  int size();

  /** Replaces every value by its sum over all ranks. */
  void allReduceSum(double[] values);

  /**
   * Rank 0 computes the value and hands it to everyone; the others wait for it. {@code key} names
   * the decision and must be new to the group (e.g. "epoch-3-ends").
   */
  String decideOnRankZero(String key, Supplier<String> decision);

  /** Waits until every rank has reached it (the end of a run: rank 0 serves the group until all are done). */
  void barrier();

  /** Leaves the group (without waiting for the others: after a failure they fail at their next call). */
  @Override
  void close();

  /** The single process of a run without a group: sums are the values themselves. */
  static ProcessGroup solo() {
    return new ProcessGroup() {
      @Override
      public int rank() {
        return 0;
      }

      @Override
      public int size() {
        return 1;
      }

      @Override
      public void allReduceSum(double[] values) {
        // one rank: the sum is the value
      }

      @Override
      public String decideOnRankZero(String key, Supplier<String> decision) {
        return decision.get();
      }

      @Override
      public void barrier() {
      }

      @Override
      public void close() {
      }
    };
  }
}
