package org.alexkafka.trainer.report;

import java.awt.Color;
import java.awt.Font;
import java.awt.Paint;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.annotations.XYTextAnnotation;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.axis.SymbolAxis;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.PaintScale;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.data.xy.DefaultXYZDataset;

/**
 * The confusion matrix as a heatmap: true class down, predicted class across, each row
 * normalised to the share of that class's images, so that classes with few validation images
 * read as clearly as the others. Named axes and cell counts while they fit.
 */
public final class ConfusionHeatmap {

  /** Up to this many classes the axes name every class (longer lists could not be read). */
  static final int NAMED_AXES = 60;
  /** Up to this many classes every non-empty cell shows its count. */
  static final int COUNTED_CELLS = 20;

  private ConfusionHeatmap() {}

  public static JFreeChart chart(ConfusionSummary c) {
    int n = c.counts().length;
    double[][] shares = c.rowNormalised();
    double[] xs = new double[n * n];
    double[] ys = new double[n * n];
    double[] zs = new double[n * n];
    for (int t = 0; t < n; t++) {
      for (int p = 0; p < n; p++) {
        xs[t * n + p] = p;
        ys[t * n + p] = t;
        zs[t * n + p] = shares[t][p];
      }
    }
    DefaultXYZDataset data = new DefaultXYZDataset();
    data.addSeries("share", new double[][] {xs, ys, zs});
    XYBlockRenderer renderer = new XYBlockRenderer();
    PaintScale scale = new Blues();
    renderer.setPaintScale(scale);
    ValueAxis predicted = axis("predicted class", c, n);
    ValueAxis truth = axis("true class", c, n);
    truth.setInverted(true); // the first class at the top, as a matrix is written
    if (predicted instanceof SymbolAxis s) {
      s.setVerticalTickLabels(true);
    }
    XYPlot plot = new XYPlot(data, predicted, truth, renderer);
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinesVisible(false);
    plot.setRangeGridlinesVisible(false);
    if (n <= COUNTED_CELLS) {
      Font font = new Font(Font.SANS_SERIF, Font.PLAIN, n <= 10 ? 12 : 9);
      for (int t = 0; t < n; t++) {
        for (int p = 0; p < n; p++) {
          if (c.counts()[t][p] > 0) {
            XYTextAnnotation count = new XYTextAnnotation(Long.toString(c.counts()[t][p]), p, t);
            count.setFont(font);
            count.setPaint(shares[t][p] > 0.5 ? Color.WHITE : Color.BLACK);
            plot.addAnnotation(count);
          }
        }
      }
    }
    JFreeChart chart = new JFreeChart("Confusion matrix (rows: true class, normalised; centre crops)",
        JFreeChart.DEFAULT_TITLE_FONT, plot, false);
    NumberAxis legendAxis = new NumberAxis("share of the true class's images");
    legendAxis.setRange(0, 1);
    legendAxis.setTickUnit(new NumberTickUnit(0.1));
    PaintScaleLegend legend = new PaintScaleLegend(scale, legendAxis);
    legend.setPosition(RectangleEdge.RIGHT);
    legend.setStripWidth(12);
    legend.setMargin(4, 8, 4, 4);
    chart.addSubtitle(legend);
    chart.setBackgroundPaint(Color.WHITE);
    return chart;
  }

  /** A square image that gives every class a readable row, labels included. */
  public static int side(int classes) {
    int cells = Math.max(320, Math.min(760, classes * 40));
    return cells + (classes <= NAMED_AXES ? 240 : 80);
  }

  private static ValueAxis axis(String label, ConfusionSummary c, int n) {
    ValueAxis axis;
    if (n <= NAMED_AXES) {
      SymbolAxis named = new SymbolAxis(label, c.classNames().toArray(new String[0]));
      named.setGridBandsVisible(false);
      named.setTickLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, n <= 20 ? 11 : 8));
      axis = named;
    } else {
      NumberAxis indices = new NumberAxis(label + " (index)");
      indices.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
      axis = indices;
    }
    axis.setRange(-0.5, n - 0.5);
    return axis;
  }

  /** White (0) to dark blue (1), matplotlib's "Blues" ends. */
  private static final class Blues implements PaintScale {

    @Override
    public double getLowerBound() {
      return 0;
    }

    @Override
    public double getUpperBound() {
      return 1;
    }

    @Override
    public Paint getPaint(double value) {
      double v = Double.isNaN(value) ? 0 : Math.max(0, Math.min(1, value));
      return new Color(lerp(247, 8, v), lerp(251, 48, v), lerp(255, 107, v));
    }

    private static int lerp(int from, int to, double f) {
      return (int) Math.round(from + (to - from) * f);
    }
  }
}
