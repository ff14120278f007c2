package org.alexkafka.trainer.report;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;

/**
 * Writes the training report into a directory: {@code index.html}, one self-contained page (its
 * charts and crops inlined as data URIs, so that it can be mailed or archived alone), and the
 * charts also as PNG files beside it, for use elsewhere. Files are written to a temporary name and
 * renamed, so a reader never sees half a report.
 */
public final class TrainingReport {

  public static final String HTML = "index.html";
  public static final List<String> CHARTS = List.of("loss.png", "error.png", "learning-rate.png", "throughput.png");
  public static final String HEATMAP = "confusion.png";
  static final int WIDTH = 720;
  static final int HEIGHT = 380;
  static final int TILE = 160;

  private TrainingReport() {}

  public static Path write(Path dir, ReportData data) throws IOException {
    System.setProperty("java.awt.headless", "true");
    Files.createDirectories(dir);
    Map<String, byte[]> charts = new LinkedHashMap<>();
    List<JFreeChart> curves = curves(data);
    for (int i = 0; i < curves.size(); i++) {
      charts.put(CHARTS.get(i), png(curves.get(i), WIDTH, HEIGHT));
    }
    byte[] heatmap = null;
    if (data.confusion() != null) {
      int side = ConfusionHeatmap.side(data.confusion().classNames().size());
      heatmap = png(ConfusionHeatmap.chart(data.confusion()), side + 90, side);
      charts.put(HEATMAP, heatmap);
    }
    for (Map.Entry<String, byte[]> chart : charts.entrySet()) {
      writeAtomically(dir.resolve(chart.getKey()), chart.getValue());
    }
    List<byte[]> tiles = new ArrayList<>();
    for (PredictionTile t : data.tiles()) {
      tiles.add(jpeg(t.crop()));
    }
    String page = ReportPage.html(data, CHARTS.stream().map(charts::get).toList(), heatmap, tiles);
    Path html = dir.resolve(HTML);
    writeAtomically(html, page.getBytes(StandardCharsets.UTF_8));
    return html;
  }

  /** Loss, error, learning rate and throughput, with epochs and rate reductions marked and a time axis. */
  static List<JFreeChart> curves(ReportData data) {
    List<JFreeChart> charts = List.of(ReportCharts.loss(data.training()),
        ReportCharts.error(data.training(), data.evaluations()), ReportCharts.learningRate(data.training()),
        ReportCharts.throughput(data.training()));
    for (JFreeChart c : charts) {
      ReportCharts.markEpochs(c, data.epochs());
      ReportCharts.markReductions(c, data.rateChanges());
      ReportCharts.addElapsedAxis(c, data.training());
    }
    return charts;
  }

  private static byte[] png(JFreeChart chart, int width, int height) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ChartUtils.writeChartAsPNG(out, chart, width, height);
    return out.toByteArray();
  }

  /** Crops are photos: JPEG keeps the page small (a PNG of each is several times larger). */
  static byte[] jpeg(BufferedImage crop) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      if (!ImageIO.write(crop, "jpg", out)) {
        throw new IllegalStateException("no JPEG writer");
      }
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void writeAtomically(Path target, byte[] bytes) throws IOException {
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    Files.write(tmp, bytes);
    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
