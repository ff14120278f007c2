package org.alexkafka.trainer.model;

/**
 * The recipe's constants from Krizhevsky et al. (2012), shared by every engine. LRN: b = a / (k +
 * α·Σ a²)^β over n = 5 adjacent maps (α not divided by n). The update: v ← μ·v − λ·ε·w − ε·∂L/∂w,
 * w ← w + v, with weight decay λ on weights only.
 */
public final class Paper {

  public static final double LRN_K = 2;
  public static final double LRN_N = 5;
  public static final double LRN_ALPHA = 1e-4;
  public static final double LRN_BETA = 0.75;
  public static final double INIT_STD = 0.01;
  public static final double WEIGHT_DECAY = 0.0005;
  public static final double MOMENTUM = 0.9;
  public static final double INITIAL_LEARNING_RATE = 0.01;

  private Paper() {
  }
}
