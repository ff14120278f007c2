package org.alexkafka.trainer.model;

/**
 * The sizes of one AlexNet: {@link #paper()} is the network of Krizhevsky et al. (2012); {@link
 * #small} is the same architecture, scaled down, for tests and the demo. Both are built by {@link
 * AlexNet#build}.
 *
 * <p>Input size, the 224/227 question: the samples carry 224x224 crops (as the paper states), but
 * conv1 (11x11, stride 4) needs 227 to give the paper's 55x55 maps. We keep the 224 crops and let
 * conv1 zero-pad them by 2 on every side; in DL4J's truncate mode (224 + 4 - 11) / 4 + 1 = 55.25
 * becomes 55, so the last padded row/column is never reached: the same as padding 224 to 227 with
 * one zero row/column before and two after. An input of 227 is also accepted (then no padding).
 *
 * @param inputSize side of the square input crops the samples carry
 * @param classes number of output classes (1000 in the paper)
 * @param conv1 .. conv5 output maps of the five convolutions (96, 256, 384, 384, 256)
 * @param fc width of fc6 and fc7 (4096)
 * @param towers 1 = one-GPU network; 2 = the paper's two-GPU variant (conv2, conv4, conv5 grouped)
 * @param dropout probability of DROPPING an fc6/fc7 output unit during training (0.5; 0 = off)
 * @param initStd standard deviation of the Gaussian weight init (the paper: 0.01)
 * @param seed seed of the weight initialisation
 */
public record AlexNetSpec(int inputSize, int classes, int conv1, int conv2, int conv3, int conv4, int conv5,
                          int fc, int towers, double dropout, double initStd, long seed) {

  public static final int CONV1_KERNEL = 11;
  public static final int CONV1_STRIDE = 4;

  public AlexNetSpec {
    if (towers != 1 && towers != 2) {
      throw new IllegalArgumentException("towers must be 1 or 2, got " + towers);
    }
    if (towers == 2 && (conv1 % 2 != 0 || conv2 % 2 != 0 || conv3 % 2 != 0 || conv4 % 2 != 0 || conv5 % 2 != 0)) {
      throw new IllegalArgumentException("two towers need an even number of maps in every convolution");
    }
    if (dropout < 0 || dropout >= 1) {
      throw new IllegalArgumentException("dropout is a drop probability in [0, 1), got " + dropout);
    }
    if (!(initStd > 0)) {
      throw new IllegalArgumentException("init std must be positive, got " + initStd);
    }
    if (classes < 2) {
      throw new IllegalArgumentException("need at least 2 classes, got " + classes);
    }
    if (inputSize < CONV1_KERNEL) {
      throw new IllegalArgumentException("input " + inputSize + " is smaller than conv1's kernel");
    }
    int side = mapSide(inputSize);
    if (side < 1) {
      throw new IllegalArgumentException("input " + inputSize + " leaves no map after the third pooling");
    }
  }

  /** The paper's one-tower network: 224 crops, 1000 classes. */
  public static AlexNetSpec paper() {
    return new AlexNetSpec(224, 1000, 96, 256, 384, 384, 256, 4096, 1, 0.5, 0.01, 42);
  }

  /** The paper's network with the two-GPU grouping. */
  public static AlexNetSpec paperTwoTowers() {
    return paper().withTowers(2);
  }

  /**
   * The same architecture with 1/4 of the maps and 1/16 of the fc width: for tests and the demo.
   * An input of 64 gives maps of 15, 7, 3 and 1 after conv1 and the three poolings. The init is
   * wider (0.04 instead of 0.01): with fan-ins 4-36 times smaller than the paper's, N(0, 0.01)
   * leaves the deep layers' outputs almost constant (biases of 1 dominate) and the net does not
   * start learning within hundreds of steps.
   */
  public static AlexNetSpec small(int classes, int inputSize) {
    return new AlexNetSpec(inputSize, classes, 24, 64, 96, 96, 64, 256, 1, 0.5, 0.04, 42);
  }

  public AlexNetSpec withTowers(int t) {
    return new AlexNetSpec(inputSize, classes, conv1, conv2, conv3, conv4, conv5, fc, t, dropout, initStd, seed);
  }

  public AlexNetSpec withClasses(int c) {
    return new AlexNetSpec(inputSize, c, conv1, conv2, conv3, conv4, conv5, fc, towers, dropout, initStd, seed);
  }

  public AlexNetSpec withDropout(double d) {
    return new AlexNetSpec(inputSize, classes, conv1, conv2, conv3, conv4, conv5, fc, towers, d, initStd, seed);
  }

  public AlexNetSpec withInputSize(int size) {
    return new AlexNetSpec(size, classes, conv1, conv2, conv3, conv4, conv5, fc, towers, dropout, initStd, seed);
  }

  public AlexNetSpec withSeed(long s) {
    return new AlexNetSpec(inputSize, classes, conv1, conv2, conv3, conv4, conv5, fc, towers, dropout, initStd, s);
  }

  /** Zero padding of conv1 on each side: the least that makes (input + 2p - 11) reach a multiple of 4. */
  public int conv1Padding() {
    int rest = Math.floorMod(inputSize - CONV1_KERNEL, CONV1_STRIDE);
    int needed = rest == 0 ? 0 : CONV1_STRIDE - rest;
    return (needed + 1) / 2;
  }

  /** Side of conv1's output maps (55 for the paper). */
  public int conv1Side() {
    return (inputSize + 2 * conv1Padding() - CONV1_KERNEL) / CONV1_STRIDE + 1;
  }

  /** Side of the maps that enter fc6 (6 for the paper). */
  public int finalSide() {
    return mapSide(inputSize);
  }

  private static int mapSide(int input) {
    int rest = Math.floorMod(input - CONV1_KERNEL, CONV1_STRIDE);
    int pad = ((rest == 0 ? 0 : CONV1_STRIDE - rest) + 1) / 2;
    int side = (input + 2 * pad - CONV1_KERNEL) / CONV1_STRIDE + 1;
    for (int i = 0; i < 3; i++) {
      side = side < 3 ? 0 : (side - 3) / 2 + 1;
    }
    return side;
  }
}
