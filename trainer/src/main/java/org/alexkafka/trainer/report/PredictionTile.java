package org.alexkafka.trainer.report;

import java.awt.image.BufferedImage;
import java.util.List;

/** A sample crop as the network saw it, with its true class and the network's three likeliest. */
public record PredictionTile(BufferedImage crop, String label, List<Guess> top) {

  /** A class the network named, and the probability it gave it. */
  public record Guess(String name, double probability) {}

  public PredictionTile {
    if (top.isEmpty()) {
      throw new IllegalArgumentException("a tile needs at least the predicted class");
    }
    top = List.copyOf(top);
  }

  public String predicted() {
    return top.get(0).name();
  }

  public boolean correct() {
    return label.equals(predicted());
  }
}
