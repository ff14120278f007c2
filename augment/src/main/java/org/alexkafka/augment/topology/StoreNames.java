package org.alexkafka.augment.topology;

/** Names of the topology's state stores (their changelog topics are named after them). */
public final class StoreNames {

  /** Training image ids already counted into the statistics: a replayed image is counted once. */
  public static final String SEEN_TRAIN_IDS = "augment-seen-train-ids";
  /** This task's statistics sums (one entry, {@link #PARTIAL_KEY}). */
  public static final String STATS_PARTIAL = "augment-stats-partial";
  /** Images that arrived before their label, waiting (bounded time) for it. */
  public static final String LABEL_WAIT = "augment-label-wait";
  /** Latest partial of every task, summed into the published statistics. */
  public static final String STATS_PARTIALS = "augment-stats-partials";
  /** Global: the labels topic. */
  public static final String LABELS = "augment-labels";
  /** Global: the published statistics, for the lighting. */
  public static final String STATS = "augment-stats";

  public static final String PARTIAL_KEY = "partial";
  /** The one key of the compacted stats topic. */
  public static final String STATS_KEY = "train";

  private StoreNames() {}
}
