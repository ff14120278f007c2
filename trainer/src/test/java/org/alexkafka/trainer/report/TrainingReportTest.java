package org.alexkafka.trainer.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.awt.Graphics2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartRenderingInfo;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.AxisState;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.LogTick;
import org.jfree.chart.axis.LogarithmicAxis;
import org.jfree.chart.axis.Tick;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.SymbolAxis;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.ui.Layer;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.data.xy.XYDataset;
import org.jfree.data.xy.XYZDataset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingReportTest {

  /** 20 intervals of 10 iterations, 6 s each; epoch 2 from iteration 100; ε divided at iteration 150. */
  static List<TrainPoint> training() {
    List<TrainPoint> points = new ArrayList<>();
    for (int i = 1; i <= 20; i++) {
      points.add(new TrainPoint(i * 10L, i < 10 ? 1 : 2, i * 6.0, 2.3 / i, 0.9 - i * 0.02, 0.5 - i * 0.01,
          i < 15 ? 0.01 : 0.001, 40 + i, 0.1));
    }
    return points;
  }

  static ReportData data() {
    List<EvalPoint> evals = List.of(new EvalPoint(100, 1, 0.6, 0.2, 0.55, 0.18, 30), new EvalPoint(200, 2, 0.4, 0.1, 0.35, 0.08, 30));
    ConfusionSummary confusion = new ConfusionSummary(List.of("church (n03028079)", "tench (n01440764)", "n03000684"),
        new long[][] {{8, 2, 0}, {5, 5, 0}, {0, 1, 9}});
    BufferedImage crop = new BufferedImage(24, 24, BufferedImage.TYPE_INT_RGB);
    List<PredictionTile> tiles = List.of(
        new PredictionTile(crop, "tench (n01440764)", List.of(new PredictionTile.Guess("church (n03028079)", 0.6),
            new PredictionTile.Guess("tench (n01440764)", 0.3), new PredictionTile.Guess("n03000684", 0.1))),
        new PredictionTile(crop, "church (n03028079)", List.of(new PredictionTile.Guess("church (n03028079)", 0.9),
            new PredictionTile.Guess("tench (n01440764)", 0.06), new PredictionTile.Guess("n03000684", 0.04))));
    List<RateChange> changes = List.of(new RateChange(150, 2, 0.01, 0.001, "validation error has not improved"));
    List<EpochStart> epochs = List.of(new EpochStart(1, 0, 1000), new EpochStart(2, 100, 1000));
    RunSettings settings = new RunSettings(List.of(new RunSettings.Setting("engine", "dl4j")),
        List.of(new RunSettings.Setting("training images", "300")), List.of(new RunSettings.Setting("batchSize", "128")));
    return new ReportData("test run", training(), evals, changes, null, confusion, tiles, epochs, settings);
  }

  private static double y(JFreeChart chart, int series, int item) {
    XYDataset d = chart.getXYPlot().getDataset();
    return d.getYValue(series, item);
  }

  @Test
  void chartsPlotTheGivenSeriesRawAndSmoothed() {
    ReportData data = data();
    JFreeChart loss = ReportCharts.loss(data.training());
    XYDataset lossData = loss.getXYPlot().getDataset();
    assertThat(lossData.getSeriesCount()).isEqualTo(2);
    assertThat(lossData.getSeriesKey(0)).isEqualTo("train loss (raw)");
    assertThat(lossData.getSeriesKey(1)).isEqualTo("train loss (smoothed)");
    assertThat(lossData.getItemCount(0)).isEqualTo(20);
    assertThat(lossData.getXValue(0, 4)).isEqualTo(50.0);
    assertThat(y(loss, 0, 4)).isEqualTo(2.3 / 5);
    // the smoothed loss lags the falling raw one: above it after the first point
    assertThat(y(loss, 1, 0)).isCloseTo(2.3, within(1e-12));
    assertThat(y(loss, 1, 10)).isGreaterThan(y(loss, 0, 10));
    assertThat(loss.getXYPlot().getRangeAxis()).isInstanceOf(LogAxis.class);

    JFreeChart error = ReportCharts.error(data.training(), data.evaluations());
    XYDataset errorData = error.getXYPlot().getDataset();
    assertThat(errorData.getSeriesCount()).isEqualTo(8); // 2 train × (raw, smoothed) + 4 validation
    assertThat(errorData.getSeriesKey(6)).isEqualTo("val top-1 (10 views)");
    assertThat(y(error, 6, 1)).isEqualTo(0.35);
    // the error axis spans the data (0.08 .. 0.88), not 0..1
    NumberAxis errorAxis = (NumberAxis) error.getXYPlot().getRangeAxis();
    assertThat(errorAxis.getLowerBound()).isBetween(0.03, 0.08);
    assertThat(errorAxis.getUpperBound()).isBetween(0.88, 0.93);

    JFreeChart lr = ReportCharts.learningRate(data.training());
    assertThat(y(lr, 0, 19)).isEqualTo(0.001);
    assertThat(lr.getXYPlot().getRangeAxis()).isInstanceOf(LogarithmicAxis.class);
    assertThat(tickLabels(lr, lr.getXYPlot().getRangeAxis(), RectangleEdge.LEFT)).contains("1e-2", "1e-3");
    assertThat(tickLabels(loss, loss.getXYPlot().getRangeAxis(), RectangleEdge.LEFT)).contains("1", "0.5");
  }

  /** The labels an axis gives its ticks when the chart is drawn at the report's size. */
  private static List<String> tickLabels(JFreeChart chart, ValueAxis axis, RectangleEdge edge) {
    Graphics2D g2 = new BufferedImage(TrainingReport.WIDTH, TrainingReport.HEIGHT, BufferedImage.TYPE_INT_RGB).createGraphics();
    ChartRenderingInfo info = new ChartRenderingInfo();
    chart.draw(g2, new Rectangle2D.Double(0, 0, TrainingReport.WIDTH, TrainingReport.HEIGHT), info);
    Rectangle2D area = info.getPlotInfo().getDataArea();
    List<?> ticks = axis.refreshTicks(g2, new AxisState(), area, edge);
    return ticks.stream().map(TrainingReportTest::text).filter(t -> t != null && !t.isEmpty()).toList();
  }

  /** A tick's label; LogAxis gives its ticks attributed labels only. */
  private static String text(Object tick) {
    if (tick instanceof LogTick log && log.getAttributedLabel() != null) {
      StringBuilder s = new StringBuilder();
      var chars = log.getAttributedLabel().getIterator();
      for (char c = chars.first(); c != java.text.CharacterIterator.DONE; c = chars.next()) {
        s.append(c);
      }
      return s.toString();
    }
    return ((Tick) tick).getText();
  }

  @Test
  void smoothingIsTensorBoardsDebiasedMovingAverage() {
    double[] s = Smoothing.ema(new double[] {1, Double.NaN, 3}, 0.5);
    assertThat(s[0]).isEqualTo(1.0); // debiased: the first point is itself, not half of it
    assertThat(s[1]).isEqualTo(1.0); // NaN keeps the average
    assertThat(s[2]).isCloseTo((0.5 * 0.5 + 0.5 * 3) / (1 - 0.25), within(1e-12)); // 2.333…
    assertThat(Smoothing.weightFor(10)).isEqualTo(0.6);
    assertThat(Smoothing.weightFor(100)).isCloseTo(0.9, within(1e-12));
    assertThat(Smoothing.weightFor(100_000)).isEqualTo(0.99);
  }

  @Test
  void curvesMarkEpochsAndReductionsAndHaveAnElapsedTimeAxis() {
    List<JFreeChart> curves = TrainingReport.curves(data());
    for (JFreeChart chart : curves) {
      XYPlot plot = chart.getXYPlot();
      List<Double> markers = plot.getDomainMarkers(Layer.FOREGROUND).stream().map(m -> ((ValueMarker) m).getValue()).toList();
      assertThat(markers).as(chart.getTitle().getText()).containsExactlyInAnyOrder(100.0, 150.0);
      assertThat(plot.getDomainAxis(0).getLabel()).isEqualTo("iteration");
      NumberAxis time = (NumberAxis) plot.getDomainAxis(1);
      assertThat(time.getLabel()).contains("elapsed");
      // iteration 95 was reached between the rows of iterations 90 (54 s) and 100 (60 s)
      assertThat(time.getNumberFormatOverride().format(95)).isEqualTo("0:57");
      assertThat(time.getNumberFormatOverride().format(5)).isEmpty(); // before the first row: no guess
      List<String> labels = tickLabels(chart, time, RectangleEdge.TOP);
      assertThat(labels).as("time labels of %s", chart.getTitle().getText()).hasSizeBetween(3, 12).contains("1:00", "2:00");
    }
  }

  @Test
  void elapsedTimeIsWrittenAsOnAClock() {
    assertThat(Elapsed.format(7)).isEqualTo("0:07");
    assertThat(Elapsed.format(725)).isEqualTo("12:05");
    assertThat(Elapsed.format(3 * 3600 + 125)).isEqualTo("3:02:05");
    assertThat(Elapsed.format(2 * 86_400 + 3 * 3600 + 125)).isEqualTo("2 d 3:02:05");
  }

  @Test
  void confusionSummaryFindsTheWorstPairAndNormalisesRows() {
    ConfusionSummary c = data().confusion();
    assertThat(c.top1ErrorOf(1)).isEqualTo(0.5);
    assertThat(c.imagesOf(0)).isEqualTo(10);
    assertThat(c.topConfusions(1)).containsExactly(new ConfusionSummary.Confusion("tench (n01440764)", "church (n03028079)", 5));
    assertThat(c.rowNormalised()[0]).containsExactly(0.8, 0.2, 0.0);
    assertThat(new ConfusionSummary(List.of("a", "b"), new long[][] {{0, 0}, {0, 3}}).rowNormalised()[0]).containsExactly(0, 0);
  }

  @Test
  void heatmapHasOneCellPerPairNamedAxesAndRowShares() {
    JFreeChart heatmap = ConfusionHeatmap.chart(data().confusion());
    XYPlot plot = heatmap.getXYPlot();
    XYZDataset cells = (XYZDataset) plot.getDataset();
    assertThat(cells.getItemCount(0)).isEqualTo(9);
    assertThat(cells.getXValue(0, 3)).isEqualTo(0.0); // row 1 (tench), predicted 0 (church): 5 of 10
    assertThat(cells.getYValue(0, 3)).isEqualTo(1.0);
    assertThat(cells.getZValue(0, 3)).isEqualTo(0.5);
    assertThat(((SymbolAxis) plot.getDomainAxis()).getSymbols()).containsExactly("church (n03028079)", "tench (n01440764)",
        "n03000684");
    assertThat(plot.getRangeAxis().isInverted()).isTrue();
    assertThat(plot.getAnnotations()).hasSize(6); // the non-empty cells show their counts
  }

  @Test
  void writesASelfContainedPageWithChartFilesBeside(@TempDir Path dir) throws Exception {
    Path html = TrainingReport.write(dir, data());

    String page = Files.readString(html);
    for (String chart : TrainingReport.CHARTS) {
      BufferedImage png = ImageIO.read(dir.resolve(chart).toFile());
      assertThat(png.getWidth()).isEqualTo(TrainingReport.WIDTH);
    }
    assertThat(ImageIO.read(dir.resolve(TrainingReport.HEATMAP).toFile()).getHeight()).isGreaterThan(300);
    assertThat(page).doesNotContain("src=\"loss.png\"").doesNotContain("http://").doesNotContain("https://");
    assertThat(page.split("src=\"data:image/png;base64,", -1)).hasSize(4 + 1 + 1); // 4 curves + heatmap
    assertThat(page.split("src=\"data:image/jpeg;base64,", -1)).hasSize(2 + 1);
    assertThat(page).contains("<td>200</td><td>2</td><td>0.11500</td>"); // iteration 200: epoch 2, loss 2.3/20
    assertThat(page).contains("top-1 error 0.400")
        .contains("<tr><td>tench (n01440764)</td><td>church (n03028079)</td><td>5</td></tr>")
        .contains("<tr><td>tench (n01440764)</td><td>10</td><td>0.500</td></tr>")
        .contains("<tr><td>batchSize</td><td>128</td></tr>")
        .contains("<meta http-equiv=\"refresh\"");
    assertThat(page).containsSubsequence("class=\"tile wrong\"", "tench (n01440764)", "church (n03028079) <span class=\"p\">60.0%",
        "class=\"tile right\"");
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
    }
  }

  @Test
  void anEndedRunDoesNotReloadAndNoConfusionsSaysNone(@TempDir Path dir) throws Exception {
    ReportData d = data();
    ReportData ended = new ReportData(d.title(), d.training(), d.evaluations(), d.rateChanges(),
        new RunEndPoint(200, 2, "PLATEAU", "validation error stopped improving", null),
        new ConfusionSummary(List.of("a", "b"), new long[][] {{3, 0}, {0, 4}}), List.of(), d.epochs(), d.settings());

    String page = Files.readString(TrainingReport.write(dir, ended));

    assertThat(page).doesNotContain("http-equiv=\"refresh\"").contains("<b>Run ended</b> at iteration 200")
        .contains("<h3>Most frequent confusions</h3><table id=\"confusions\"><tr><th>true</th><th>predicted</th>"
            + "<th>count</th></tr><tr><td colspan=\"3\">none</td></tr></table>");
  }
}
