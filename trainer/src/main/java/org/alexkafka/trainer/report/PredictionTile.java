package org.alexkafka.trainer.report;

import java.awt.image.BufferedImage;

/** A sample crop as the network saw it, with its true and predicted class. */
public record PredictionTile(BufferedImage crop, String label, String predicted) {

  public boolean correct() {
    return label.equals(predicted);
  }
}
