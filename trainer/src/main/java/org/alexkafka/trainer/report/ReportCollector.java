package org.alexkafka.trainer.report;

import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import org.alexkafka.schemas.Sample;

/**
 * Collects what the report shows from an evaluation: the confusion matrix of the centre views and
 * the first few crops with their true and predicted class. Class names come from the samples'
 * own labels (index → class id).
 */
public final class ReportCollector implements BiConsumer<Sample, float[]> {

  private final int classes;
  private final int maxTiles;
  private final long[][] counts;
  private final String[] names;
  private final List<Sample> tileSamples = new ArrayList<>();
  private final List<Integer> tilePredictions = new ArrayList<>();

  public ReportCollector(int classes, int maxTiles) {
    this.classes = classes;
    this.maxTiles = maxTiles;
    this.counts = new long[classes][classes];
    this.names = new String[classes];
  }

  @Override
  public void accept(Sample sample, float[] probabilities) {
    int truth = sample.getClassIndex();
    int predicted = argmax(probabilities);
    counts[truth][predicted]++;
    if (!sample.getLabel().isEmpty()) {
      names[truth] = sample.getLabel();
    }
    if (tileSamples.size() < maxTiles) {
      tileSamples.add(sample);
      tilePredictions.add(predicted);
    }
  }

  private static int argmax(float[] p) {
    int best = 0;
    for (int i = 1; i < p.length; i++) {
      if (p[i] > p[best]) {
        best = i;
      }
    }
    return best;
  }

  private String name(int index) {
    return names[index] != null ? names[index] : "#" + index;
  }

  public ConfusionSummary confusion() {
    List<String> classNames = new ArrayList<>(classes);
    for (int i = 0; i < classes; i++) {
      classNames.add(name(i));
    }
    return new ConfusionSummary(classNames, counts);
  }

  public List<PredictionTile> tiles() {
    List<PredictionTile> tiles = new ArrayList<>();
    for (int i = 0; i < tileSamples.size(); i++) {
      Sample s = tileSamples.get(i);
      tiles.add(new PredictionTile(toImage(s), name(s.getClassIndex()), name(tilePredictions.get(i))));
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
