package org.alexkafka.trainer.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.util.List;
import java.util.function.ToDoubleFunction;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogarithmicAxis;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** The report's charts, each against iterations; pure functions of the data so they are testable. */
public final class ReportCharts {

  private ReportCharts() {}

  public static JFreeChart loss(List<TrainPoint> training) {
    return chart("Training loss", "loss", collection(series("train loss", training, TrainPoint::iteration, TrainPoint::loss)));
  }

  /** Dashed vertical lines where the learning rate was divided. */
  public static void markReductions(JFreeChart chart, List<RateChange> changes) {
    XYPlot plot = (XYPlot) chart.getPlot();
    for (RateChange c : changes) {
      ValueMarker marker = new ValueMarker(c.iteration(), new Color(120, 120, 120), new BasicStroke(1f,
          BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {4f, 4f}, 0f));
      marker.setLabel(String.format(java.util.Locale.ROOT, "ε→%.0e", c.to()));
      marker.setLabelAnchor(RectangleAnchor.TOP_LEFT);
      marker.setLabelTextAnchor(TextAnchor.TOP_RIGHT);
      plot.addDomainMarker(marker);
    }
  }

  public static JFreeChart error(List<TrainPoint> training, List<EvalPoint> evaluations) {
    XYSeriesCollection data = collection(
        series("train top-1", training, TrainPoint::iteration, TrainPoint::top1Error),
        series("train top-5", training, TrainPoint::iteration, TrainPoint::top5Error),
        series("val top-1 (centre)", evaluations, EvalPoint::iteration, EvalPoint::top1Error),
        series("val top-5 (centre)", evaluations, EvalPoint::iteration, EvalPoint::top5Error),
        series("val top-1 (10 views)", evaluations, EvalPoint::iteration, EvalPoint::top1Error10View),
        series("val top-5 (10 views)", evaluations, EvalPoint::iteration, EvalPoint::top5Error10View));
    JFreeChart chart = chart("Top-1 / top-5 error", "error", data);
    ((XYPlot) chart.getPlot()).getRangeAxis().setRange(0, 1);
    return chart;
  }

  public static JFreeChart learningRate(List<TrainPoint> training) {
    JFreeChart chart = chart("Learning rate", "ε", collection(series("learning rate", training, TrainPoint::iteration, TrainPoint::learningRate)));
    if (training.stream().allMatch(p -> p.learningRate() > 0)) {
      LogarithmicAxis axis = new LogarithmicAxis("ε (log)");
      axis.setAllowNegativesFlag(false);
      ((XYPlot) chart.getPlot()).setRangeAxis(axis);
    }
    return chart;
  }

  public static JFreeChart throughput(List<TrainPoint> training) {
    return chart("Throughput", "images/s", collection(series("images/s", training, TrainPoint::iteration, TrainPoint::imagesPerSecond)));
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

  private static XYSeriesCollection collection(XYSeries... series) {
    XYSeriesCollection collection = new XYSeriesCollection();
    for (XYSeries s : series) {
      if (s.getItemCount() > 0) {
        collection.addSeries(s);
      }
    }
    return collection;
  }

  private static JFreeChart chart(String title, String yLabel, XYSeriesCollection data) {
    JFreeChart chart = ChartFactory.createXYLineChart(title, "iteration", yLabel, data, PlotOrientation.VERTICAL, true, false, false);
    XYPlot plot = (XYPlot) chart.getPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
    for (int i = 0; i < data.getSeriesCount(); i++) {
      renderer.setSeriesStroke(i, new BasicStroke(1.6f));
    }
    plot.setRenderer(renderer);
    return chart;
  }
}
