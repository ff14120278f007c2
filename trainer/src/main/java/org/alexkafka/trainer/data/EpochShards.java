package org.alexkafka.trainer.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The shards of every epoch's order that one rank trains, each read by its own {@link
 * ShuffledEpoch} and assembled by its own {@link BatchFeed}: with S shards and W ranks, rank r
 * holds the shards s with s mod W = r (one when S = W, the usual case), and each global batch of
 * B samples takes B / S of them from every shard. So the global batches, and hence the training,
 * are the same whether S shards are trained by S ranks or by one: the order is a property of the
 * run (seed, epoch, S), not of how many processes train it.
 */
public final class EpochShards implements AutoCloseable {

  /** What a shard reads with (readers fetching blocks in parallel, each with its own consumer), and what closes them. */
  public record Source(List<BlockReader> readers, AutoCloseable resources) {

    public Source {
      readers = List.copyOf(readers);
      if (readers.isEmpty()) {
        throw new IllegalArgumentException("a shard needs at least one reader");
      }
    }
  }

  /** The next slice of the global batch from one shard. */
  public record Slice(int shard, BatchFeed.Fed fed) {
  }

  private record Local(int shard, ShuffledEpoch epoch, BatchFeed feed, Source source) {
  }

  private final Supplier<Source> sources;
  private final BatchAssembler assembler;
  private final int blockSize;
  private final int bufferSize;
  private final int prefetch;
  private final int globalBatch;
  private final int rank;
  private final int world;
  private final List<Source> opened = new ArrayList<>();
  private final List<Local> local = new ArrayList<>();
  private final List<Boolean> over = new ArrayList<>();
  private long[] positions = new long[0];
  private int epoch;
  private int shards;
  private int blockOfEpoch;
  private int bufferOfEpoch;
  private Map<Integer, Long> ends = Map.of();

  public EpochShards(Supplier<Source> sources, BatchAssembler assembler, int blockSize, int bufferSize, int prefetch,
                     int globalBatch, int rank, int world) {
    if (world < 1 || rank < 0 || rank >= world) {
      throw new IllegalArgumentException("need 0 <= rank < world, got rank " + rank + " of " + world);
    }
    this.sources = sources;
    this.assembler = assembler;
    this.blockSize = blockSize;
    this.bufferSize = bufferSize;
    this.prefetch = prefetch;
    this.globalBatch = globalBatch;
    this.rank = rank;
    this.world = world;
  }

  /** Samples of shard {@code shard}'s slice of every global batch: B / S, the first B mod S shards one more. */
  public static int sliceSize(int globalBatch, int shard, int shards) {
    return globalBatch / shards + (shard < globalBatch % shards ? 1 : 0);
  }

  /** The topic's end offsets now. */
  public Map<Integer, Long> endOffsetsNow() {
    return source(0).readers().get(0).endOffsetsNow();
  }

  /** Starts epoch {@code number} up to {@code ends}, cut into {@code shards}; returns the offsets the epoch spans. */
  public long start(int number, long seed, Map<Integer, Long> ends, int shards) {
    begin(number, ends, shards, blockSize, bufferSize);
    for (Local l : local) {
      l.epoch().startEpoch(number, seed, ends, l.shard(), shards);
      l.feed().start(l.epoch());
    }
    return ends.values().stream().mapToLong(Long::longValue).sum();
  }

  /** Continues exactly where {@code cursor} (of every shard) was taken. */
  public void restore(Cursor cursor, long seed) {
    begin(cursor.epoch(), cursor.endOffsets(), cursor.shards(), cursor.blockSize(), cursor.bufferSize());
    for (int s = 0; s < shards; s++) {
      positions[s] = cursor.shardPositions().get(s);
    }
    for (Local l : local) {
      l.epoch().restore(cursor, seed, l.shard());
      l.feed().start(l.epoch());
    }
  }

  private void begin(int number, Map<Integer, Long> endOffsets, int shardCount, int block, int buffer) {
    if (shardCount < 1 || shardCount > globalBatch) {
      throw new IllegalArgumentException("an epoch is cut into 1 to " + globalBatch + " shards (the global batch), not "
          + shardCount);
    }
    stopFeeds();
    this.epoch = number;
    this.ends = Map.copyOf(endOffsets);
    this.shards = shardCount;
    this.blockOfEpoch = block;
    this.bufferOfEpoch = buffer;
    this.positions = new long[shardCount];
    local.clear();
    over.clear();
    int slot = 0;
    for (int s = rank; s < shardCount; s += world) {
      Source src = source(slot++);
      ShuffledEpoch e = new ShuffledEpoch(src.readers(), block, buffer, prefetch);
      local.add(new Local(s, e, new BatchFeed(assembler, sliceSize(globalBatch, s, shardCount), 2), src));
      over.add(false);
    }
  }

  public int epoch() {
    return epoch;
  }

  public int shards() {
    return shards;
  }

  /** The shards this rank reads in this epoch (none when there are more ranks than shards). */
  public List<Integer> localShards() {
    return local.stream().map(Local::shard).toList();
  }

  /** The next slice from every local shard that has not handed out its last one (that last one is marked epochOver). */
  public List<Slice> next() {
    List<Slice> out = new ArrayList<>(local.size());
    for (int i = 0; i < local.size(); i++) {
      if (over.get(i)) {
        continue;
      }
      Local l = local.get(i);
      BatchFeed.Fed fed = l.feed().next();
      positions[l.shard()] = fed.after().position();
      if (fed.epochOver()) {
        over.set(i, true);
      }
      out.add(new Slice(l.shard(), fed));
    }
    return out;
  }

  /** Hands the slices' batch arrays back for the next batches, once nothing reads them any more. */
  public void recycle(List<Slice> slices) {
    for (Slice s : slices) {
      assembler.recycle(s.fed().batch());
    }
  }

  /** True when every local shard has handed out its last slice of the epoch. */
  public boolean localOver() {
    return !over.contains(false);
  }

  /** Every shard's position after the slices handed out so far: this rank's shards filled in, the others 0. */
  public long[] localPositions() {
    return positions.clone();
  }

  /** The epoch's cursor, from every shard's position (summed over the ranks). */
  public Cursor cursor(long[] allPositions) {
    List<Long> p = new ArrayList<>(allPositions.length);
    for (long v : allPositions) {
      p.add(v);
    }
    return Cursor.ofShards(epoch, ends, blockOfEpoch, bufferOfEpoch, p);
  }

  /** Samples rejected by the trainer's check, or that could not be decoded, so far (this rank's shards). */
  public long rejected() {
    return opened.stream().flatMap(s -> s.readers().stream()).mapToLong(BlockReader::rejected).sum();
  }

  @Override
  public void close() {
    stopFeeds();
    for (Source s : opened) {
      try {
        s.resources().close();
      } catch (Exception e) {
        // closing: nothing left to do with it
      }
    }
    opened.clear();
  }

  private void stopFeeds() {
    for (Local l : local) {
      l.feed().close();
      l.epoch().close();
    }
  }

  private Source source(int slot) {
    while (opened.size() <= slot) {
      opened.add(sources.get());
    }
    return opened.get(slot);
  }
}
