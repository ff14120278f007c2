package org.alexkafka.trainer.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Paint;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.AxisLocation;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.LogarithmicAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The report's curves, against iterations (bottom axis) and elapsed wall time (top axis). Noisy
 * training series are drawn raw and faint with their {@link Smoothing moving average} over them
 * in the same colour, as TensorBoard does; evaluations are drawn as they are. Pure functions of
 * the data, so that tests can read the plotted values back.
 */
public final class ReportCharts {

  /** The colours of successive quantities (Tableau's, as TensorBoard and matplotlib use). */
  private static final Color[] PALETTE = {new Color(31, 119, 180), new Color(255, 127, 14), new Color(44, 160, 44),
      new Color(214, 39, 40), new Color(148, 103, 189), new Color(140, 86, 75)};
  static final String SMOOTHED = " (smoothed)";
  static final String RAW = " (raw)";

  private ReportCharts() {}

  public static JFreeChart loss(List<TrainPoint> training) {
    XYSeriesCollection data = new XYSeriesCollection();
    addSmoothed(data, "train loss", training, TrainPoint::loss);
    JFreeChart chart = chart("Training loss (cross-entropy)", "loss", data);
    if (allPositive(data)) {
      // LogAxis ticks evenly in log space (1, 0.79, 0.63, ...): labelled on every tick, unlike LogarithmicAxis
      LogAxis axis = new LogAxis("loss (log scale)");
      axis.setSmallestValue(1e-12);
      axis.setNumberFormatOverride(minimum(data) < 0.05 ? scientific()
          : new DecimalFormat("0.##", DecimalFormatSymbols.getInstance(Locale.ROOT)));
      chart.getXYPlot().setRangeAxis(axis);
    }
    return chart;
  }

  public static JFreeChart error(List<TrainPoint> training, List<EvalPoint> evaluations) {
    XYSeriesCollection data = new XYSeriesCollection();
    addSmoothed(data, "train top-1 (batch)", training, TrainPoint::top1Error);
    addSmoothed(data, "train top-5 (batch)", training, TrainPoint::top5Error);
    add(data, series("val top-1 (centre)", evaluations, EvalPoint::iteration, EvalPoint::top1Error));
    add(data, series("val top-5 (centre)", evaluations, EvalPoint::iteration, EvalPoint::top5Error));
    add(data, series("val top-1 (10 views)", evaluations, EvalPoint::iteration, EvalPoint::top1Error10View));
    add(data, series("val top-5 (10 views)", evaluations, EvalPoint::iteration, EvalPoint::top5Error10View));
    JFreeChart chart = chart("Top-1 / top-5 error", "error", data);
    rangeToData(chart.getXYPlot().getRangeAxis(), data);
    return chart;
  }

  public static JFreeChart learningRate(List<TrainPoint> training) {
    XYSeriesCollection data = new XYSeriesCollection();
    add(data, series("learning rate ε", training, TrainPoint::iteration, TrainPoint::learningRate));
    JFreeChart chart = chart("Learning rate", "ε", data);
    NumberAxis linear = (NumberAxis) chart.getXYPlot().getRangeAxis();
    linear.setNumberFormatOverride(scientific());
    if (allPositive(data)) {
      // ticks at the powers of ten, labelled 1e-2, 1e-3: the rates a schedule divides by ten
      LogarithmicAxis axis = new LogarithmicAxis("ε (log scale)");
      axis.setAllowNegativesFlag(false);
      axis.setStrictValuesFlag(false);
      axis.setExpTickLabelsFlag(true);
      chart.getXYPlot().setRangeAxis(axis);
    }
    return chart;
  }

  public static JFreeChart throughput(List<TrainPoint> training) {
    XYSeriesCollection data = new XYSeriesCollection();
    addSmoothed(data, "images/s", training, TrainPoint::imagesPerSecond);
    return chart("Throughput", "images/s", data);
  }

  /** Thin grey vertical lines where epochs begin (the first epoch's start is the axis itself). */
  public static void markEpochs(JFreeChart chart, List<EpochStart> epochs) {
    XYPlot plot = chart.getXYPlot();
    int every = Math.max(1, (epochs.size() + 11) / 12); // at most about 12 labels, else they overlap
    for (int i = 1; i < epochs.size(); i++) {
      EpochStart e = epochs.get(i);
      ValueMarker marker = new ValueMarker(e.iteration(), new Color(170, 170, 170), new BasicStroke(0.8f));
      if (i % every == 0) {
        marker.setLabel("epoch " + e.epoch());
        marker.setLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 9));
        marker.setLabelPaint(Color.GRAY);
        marker.setLabelBackgroundColor(new Color(255, 255, 255, 200));
        marker.setLabelAnchor(RectangleAnchor.BOTTOM_RIGHT);
        marker.setLabelTextAnchor(TextAnchor.BOTTOM_LEFT);
      }
      plot.addDomainMarker(marker);
    }
  }

  /** Dashed vertical lines where the learning rate was divided, labelled with the new rate. */
  public static void markReductions(JFreeChart chart, List<RateChange> changes) {
    XYPlot plot = chart.getXYPlot();
    for (RateChange c : changes) {
      ValueMarker marker = new ValueMarker(c.iteration(), new Color(200, 30, 30), new BasicStroke(1.2f,
          BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {5f, 4f}, 0f));
      marker.setLabel("ε→" + scientific().format(c.to()));
      marker.setLabelPaint(new Color(200, 30, 30));
      marker.setLabelBackgroundColor(new Color(255, 255, 255, 200));
      marker.setLabelAnchor(RectangleAnchor.TOP_LEFT);
      marker.setLabelTextAnchor(TextAnchor.TOP_RIGHT);
      plot.addDomainMarker(marker);
    }
  }

  /**
   * A second x axis, at the top: the wall time at which training reached each iteration. Nothing
   * when the rows carry no times.
   */
  public static void addElapsedAxis(JFreeChart chart, List<TrainPoint> training) {
    List<TrainPoint> timed = training.stream().filter(p -> !Double.isNaN(p.elapsedSeconds())).toList();
    if (timed.size() < 2) {
      return;
    }
    double[] iterations = timed.stream().mapToDouble(TrainPoint::iteration).toArray();
    double[] seconds = timed.stream().mapToDouble(TrainPoint::elapsedSeconds).toArray();
    XYPlot plot = chart.getXYPlot();
    NumberAxis time = new ElapsedTimeAxis("elapsed wall time (h:mm:ss)", iterations, seconds);
    time.setLabelFont(plot.getDomainAxis().getTickLabelFont());
    plot.setDomainAxis(1, time);
    plot.setDomainAxisLocation(1, AxisLocation.TOP_OR_LEFT);
    for (int d = 0; d < plot.getDatasetCount(); d++) {
      plot.mapDatasetToDomainAxes(d, List.of(0, 1)); // both axes range over the same iterations
    }
  }

  /** "1e-3": learning rates read best in scientific notation. */
  static DecimalFormat scientific() {
    DecimalFormatSymbols symbols = DecimalFormatSymbols.getInstance(Locale.ROOT);
    symbols.setExponentSeparator("e");
    return new DecimalFormat("0.##E0", symbols);
  }

  private static double minimum(XYSeriesCollection data) {
    double min = Double.POSITIVE_INFINITY;
    for (int s = 0; s < data.getSeriesCount(); s++) {
      for (int i = 0; i < data.getItemCount(s); i++) {
        min = Math.min(min, data.getYValue(s, i));
      }
    }
    return min;
  }

  /** The error axis spans the data with a margin, within 0..1, rather than 0..1 fixed. */
  static void rangeToData(ValueAxis axis, XYSeriesCollection data) {
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (int s = 0; s < data.getSeriesCount(); s++) {
      for (int i = 0; i < data.getItemCount(s); i++) {
        double y = data.getYValue(s, i);
        lo = Math.min(lo, y);
        hi = Math.max(hi, y);
      }
    }
    if (lo > hi) {
      axis.setRange(0, 1);
      return;
    }
    double margin = Math.max(0.02, (hi - lo) * 0.05);
    axis.setRange(Math.max(0, lo - margin), Math.min(1, hi + margin));
  }

  private static boolean allPositive(XYSeriesCollection data) {
    boolean any = false;
    for (int s = 0; s < data.getSeriesCount(); s++) {
      for (int i = 0; i < data.getItemCount(s); i++) {
        if (!(data.getYValue(s, i) > 0)) {
          return false;
        }
        any = true;
      }
    }
    return any;
  }

  /** A noisy series: raw (faint, not in the legend) and its moving average, in the next colour. */
  private static void addSmoothed(XYSeriesCollection data, String name, List<TrainPoint> points,
                                  ToDoubleFunction<TrainPoint> y) {
    double[] raw = points.stream().mapToDouble(y).toArray();
    double[] smooth = Smoothing.ema(raw, Smoothing.weightFor(raw.length));
    XYSeries rawSeries = new XYSeries(name + RAW, true, true);
    XYSeries smoothSeries = new XYSeries(name + SMOOTHED, true, true);
    for (int i = 0; i < raw.length; i++) {
      if (!Double.isNaN(raw[i])) {
        rawSeries.addOrUpdate(points.get(i).iteration(), raw[i]);
        smoothSeries.addOrUpdate(points.get(i).iteration(), smooth[i]);
      }
    }
    add(data, rawSeries);
    add(data, smoothSeries);
  }

  private static <T> XYSeries series(String name, List<T> points, ToDoubleFunction<T> x, ToDoubleFunction<T> y) {
    XYSeries series = new XYSeries(name, true, true);
    for (T p : points) {
      double value = y.applyAsDouble(p);
      if (!Double.isNaN(value)) {
        series.addOrUpdate(x.applyAsDouble(p), value);
      }
    }
    return series;
  }

  private static void add(XYSeriesCollection data, XYSeries series) {
    if (series.getItemCount() > 0) {
      data.addSeries(series);
    }
  }

  /**
   * A line chart with one colour per quantity: a raw series and its smoothed one share it, the raw
   * one faint; series of a few points (evaluations) get markers.
   */
  private static JFreeChart chart(String title, String yLabel, XYSeriesCollection data) {
    JFreeChart chart = ChartFactory.createXYLineChart(title, "iteration", yLabel, data, PlotOrientation.VERTICAL, true, false, false);
    XYPlot plot = chart.getXYPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(new Color(225, 225, 225));
    plot.setRangeGridlinePaint(new Color(225, 225, 225));
    XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
    int colour = -1;
    for (int i = 0; i < data.getSeriesCount(); i++) {
      String key = data.getSeriesKey(i).toString();
      boolean raw = key.endsWith(RAW);
      boolean smoothed = key.endsWith(SMOOTHED);
      if (!smoothed) {
        colour++;
      }
      Color c = PALETTE[colour % PALETTE.length];
      Paint paint = raw ? new Color(c.getRed(), c.getGreen(), c.getBlue(), 70) : c;
      renderer.setSeriesPaint(i, paint);
      renderer.setSeriesStroke(i, new BasicStroke(raw ? 1f : 1.8f));
      renderer.setSeriesVisibleInLegend(i, !raw);
      renderer.setSeriesShapesVisible(i, !raw && !smoothed && data.getItemCount(i) <= 60);
    }
    plot.setRenderer(renderer);
    return chart;
  }
}
