package org.alexkafka.trainer.report;

import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import org.alexkafka.schemas.Sample;

/**
 * Collects what the report shows from an evaluation: the confusion matrix of the centre views and
 * sample crops with their true class and the network's top 3, the wrong ones first. Classes are
 * named by {@link ClassNames} (the labels topic); a class it does not know by the id its samples
 * carry.
 */
public final class ReportCollector implements BiConsumer<Sample, float[]> {

  static final int TOP = 3;

  private final int classes;
  private final int maxTiles;
  private final ClassNames classNames;
  private final long[][] counts;
  private final String[] ids;
  // up to maxTiles of each, so that the grid can put every wrong one it has first
  private final List<Candidate> wrong = new ArrayList<>();
  private final List<Candidate> right = new ArrayList<>();

  private record Candidate(Sample sample, int[] top, float[] probabilities) {}

  public ReportCollector(int classes, int maxTiles) {
    this(classes, maxTiles, ClassNames.none());
  }

  public ReportCollector(int classes, int maxTiles, ClassNames classNames) {
    this.classes = classes;
    this.maxTiles = maxTiles;
    this.classNames = classNames;
    this.counts = new long[classes][classes];
    this.ids = new String[classes];
  }

  @Override
  public void accept(Sample sample, float[] probabilities) {
    int truth = sample.getClassIndex();
    int[] top = topK(probabilities, Math.min(TOP, probabilities.length));
    counts[truth][top[0]]++;
    if (!sample.getLabel().isEmpty()) {
      ids[truth] = sample.getLabel();
    }
    List<Candidate> kept = top[0] == truth ? right : wrong;
    if (kept.size() < maxTiles) {
      float[] p = new float[top.length];
      for (int i = 0; i < top.length; i++) {
        p[i] = probabilities[top[i]];
      }
      kept.add(new Candidate(sample, top, p));
    }
  }

  /** The indices of the k largest values, largest first (ties: the lower index). */
  static int[] topK(float[] p, int k) {
    int[] best = new int[k];
    java.util.Arrays.fill(best, -1);
    for (int i = 0; i < p.length; i++) {
      for (int slot = 0; slot < k; slot++) {
        if (best[slot] < 0 || p[i] > p[best[slot]]) {
          System.arraycopy(best, slot, best, slot + 1, k - slot - 1);
          best[slot] = i;
          break;
        }
      }
    }
    return best;
  }

  private String name(int index) {
    return classNames.display(index, ids[index]);
  }

  public ConfusionSummary confusion() {
    List<String> names = new ArrayList<>(classes);
    for (int i = 0; i < classes; i++) {
      names.add(name(i));
    }
    return new ConfusionSummary(names, counts);
  }

  /** Up to maxTiles tiles: the wrong predictions first, then right ones. */
  public List<PredictionTile> tiles() {
    List<PredictionTile> tiles = new ArrayList<>();
    List<Candidate> all = new ArrayList<>(wrong);
    all.addAll(right);
    for (Candidate c : all.subList(0, Math.min(maxTiles, all.size()))) {
      List<PredictionTile.Guess> guesses = new ArrayList<>();
      for (int i = 0; i < c.top().length; i++) {
        guesses.add(new PredictionTile.Guess(name(c.top()[i]), c.probabilities()[i]));
      }
      tiles.add(new PredictionTile(toImage(c.sample()), name(c.sample().getClassIndex()), guesses));
    }
    return tiles;
  }

  /** The crop's stored 8-bit RGB pixels as a picture. */
  static BufferedImage toImage(Sample s) {
    int size = s.getCropSize();
    ByteBuffer pixels = s.getPixels().duplicate();
    BufferedImage image = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
    int[] rgb = new int[size * size];
    for (int i = 0; i < rgb.length; i++) {
      rgb[i] = (pixels.get() & 0xff) << 16 | (pixels.get() & 0xff) << 8 | (pixels.get() & 0xff);
    }
    image.setRGB(0, 0, size, size, rgb, 0, size);
    return image;
  }
}
