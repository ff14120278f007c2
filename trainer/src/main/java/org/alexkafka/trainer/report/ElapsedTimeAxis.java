package org.alexkafka.trainer.report;

import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.TickUnit;

/**
 * An iteration axis whose ticks are labelled with the elapsed wall time ({@link ElapsedTimeFormat}).
 * It sizes its ticks by the longest time label: NumberAxis would measure the labels of the axis'
 * ends, which lie outside the logged iterations and are blank, and crowd the ticks.
 */
final class ElapsedTimeAxis extends NumberAxis {

  private final String widest;

  ElapsedTimeAxis(String label, double[] iterations, double[] seconds) {
    super(label);
    setAutoRangeIncludesZero(false);
    setNumberFormatOverride(new ElapsedTimeFormat(iterations, seconds));
    widest = Elapsed.format(seconds[seconds.length - 1]) + "00"; // with room between labels
  }

  @Override
  protected double estimateMaximumTickLabelWidth(Graphics2D g2, TickUnit unit) {
    Font font = getTickLabelFont();
    FontMetrics metrics = g2.getFontMetrics(font);
    return metrics.stringWidth(widest);
  }
}
