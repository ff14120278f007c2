package org.alexkafka.trainer.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.XYPlot;
import org.jfree.data.xy.XYDataset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingReportTest {

  private static List<TrainPoint> training() {
    List<TrainPoint> points = new ArrayList<>();
    for (int i = 1; i <= 20; i++) {
      points.add(new TrainPoint(i * 10L, i / 10, 2.3 / i, 0.9 - i * 0.02, 0.5 - i * 0.01, i < 15 ? 0.01 : 0.001, 40 + i, 0.1));
    }
    return points;
  }

  private static ReportData data() {
    List<EvalPoint> evals = List.of(new EvalPoint(100, 0, 0.6, 0.2, 0.55, 0.18), new EvalPoint(200, 1, 0.4, 0.1, 0.35, 0.08));
    ConfusionSummary confusion = new ConfusionSummary(List.of("cat", "dog", "fox"), new long[][] {{8, 2, 0}, {5, 5, 0}, {0, 1, 9}});
    BufferedImage crop = new BufferedImage(24, 24, BufferedImage.TYPE_INT_RGB);
    List<PredictionTile> tiles = List.of(new PredictionTile(crop, "cat", "cat"), new PredictionTile(crop, "dog", "cat"),
        new PredictionTile(crop, "fox", "fox"));
    return new ReportData("test run", training(), evals, confusion, tiles);
  }

  private static double y(JFreeChart chart, int series, int item) {
    XYDataset d = ((XYPlot) chart.getPlot()).getDataset();
    return d.getYValue(series, item);
  }

  @Test
  void chartsPlotTheGivenSeries() {
    ReportData data = data();
    JFreeChart loss = ReportCharts.loss(data.training());
    XYDataset lossData = ((XYPlot) loss.getPlot()).getDataset();
    assertThat(lossData.getSeriesCount()).isEqualTo(1);
    assertThat(lossData.getItemCount(0)).isEqualTo(20);
    assertThat(lossData.getXValue(0, 4)).isEqualTo(50.0);
    assertThat(y(loss, 0, 4)).isEqualTo(2.3 / 5);

    JFreeChart error = ReportCharts.error(data.training(), data.evaluations());
    XYDataset errorData = ((XYPlot) error.getPlot()).getDataset();
    assertThat(errorData.getSeriesCount()).isEqualTo(6);
    assertThat(errorData.getSeriesKey(4)).isEqualTo("val top-1 (10 views)");
    assertThat(y(error, 4, 1)).isEqualTo(0.35);

    JFreeChart lr = ReportCharts.learningRate(data.training());
    assertThat(y(lr, 0, 19)).isEqualTo(0.001);
  }

  @Test
  void confusionSummaryFindsTheWorstPair() {
    ConfusionSummary c = data().confusion();
    assertThat(c.accuracyOf(1)).isEqualTo(0.5);
    assertThat(c.topConfusions(1)).containsExactly(new ConfusionSummary.Confusion("dog", "cat", 5));
  }

  @Test
  void writesHtmlChartsAndSampleGrid(@TempDir Path dir) throws Exception {
    Path html = TrainingReport.write(dir, data());

    String page = Files.readString(html);
    for (String chart : TrainingReport.CHARTS) {
      BufferedImage png = ImageIO.read(dir.resolve(chart).toFile());
      assertThat(png.getWidth()).isEqualTo(720);
      assertThat(page).contains("src=\"" + chart + "\"");
    }
    assertThat(ImageIO.read(dir.resolve(TrainingReport.SAMPLES).toFile()).getWidth()).isEqualTo(3 * 128);
    assertThat(page).contains("<td>200</td><td>2</td><td>0.11500</td>"); // iteration 200: epoch 2, loss 2.3/20
    assertThat(page).contains("top-1 error 0.400").contains("dog</td><td>cat</td><td>5");
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
    }
  }
}
