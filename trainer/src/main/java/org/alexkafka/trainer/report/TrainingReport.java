package org.alexkafka.trainer.report;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;

/**
 * Writes the training report into a directory: {@code index.html} with PNG charts of loss,
 * top-1/top-5 error, learning rate and throughput against iterations, a confusion summary and a
 * grid of sample crops with labels and predictions. Files are written to a temporary name and
 * renamed, so a reader never sees half a report.
 */
public final class TrainingReport {

  public static final String HTML = "index.html";
  public static final List<String> CHARTS = List.of("loss.png", "error.png", "learning-rate.png", "throughput.png");
  public static final String SAMPLES = "samples.png";
  private static final int WIDTH = 720;
  private static final int HEIGHT = 360;

  private TrainingReport() {}

  public static Path write(Path dir, ReportData data) throws IOException {
    System.setProperty("java.awt.headless", "true");
    Files.createDirectories(dir);
    List<JFreeChart> charts = List.of(ReportCharts.loss(data.training()), ReportCharts.error(data.training(), data.evaluations()),
        ReportCharts.learningRate(data.training()), ReportCharts.throughput(data.training()));
    charts.forEach(c -> ReportCharts.markReductions(c, data.rateChanges()));
    for (int i = 0; i < charts.size(); i++) {
      Path tmp = dir.resolve(CHARTS.get(i) + ".tmp");
      ChartUtils.saveChartAsPNG(tmp.toFile(), charts.get(i), WIDTH, HEIGHT);
      Files.move(tmp, dir.resolve(CHARTS.get(i)), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
    if (!data.tiles().isEmpty()) {
      Path tmp = dir.resolve(SAMPLES + ".tmp");
      ImageIO.write(sampleGrid(data.tiles()), "png", tmp.toFile());
      Files.move(tmp, dir.resolve(SAMPLES), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
    Path html = dir.resolve(HTML);
    Path tmp = dir.resolve(HTML + ".tmp");
    Files.writeString(tmp, html(data), StandardCharsets.UTF_8);
    Files.move(tmp, html, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    return html;
  }

  /** The crops in a grid, each captioned "label → prediction", green when right, red when wrong. */
  static BufferedImage sampleGrid(List<PredictionTile> tiles) {
    int tile = 128;
    int caption = 28;
    int columns = Math.min(8, tiles.size());
    int rows = (tiles.size() + columns - 1) / columns;
    BufferedImage grid = new BufferedImage(columns * tile, rows * (tile + caption), BufferedImage.TYPE_INT_RGB);
    Graphics2D g = grid.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, grid.getWidth(), grid.getHeight());
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
    for (int i = 0; i < tiles.size(); i++) {
      PredictionTile t = tiles.get(i);
      int x = (i % columns) * tile;
      int y = (i / columns) * (tile + caption);
      g.drawImage(t.crop(), x, y, tile, tile, null);
      g.setColor(t.correct() ? new Color(0, 120, 0) : new Color(180, 0, 0));
      g.drawString(abbreviate(t.label()), x + 3, y + tile + 11);
      g.drawString("→ " + abbreviate(t.predicted()), x + 3, y + tile + 24);
    }
    g.dispose();
    return grid;
  }

  private static String abbreviate(String s) {
    return s.length() <= 22 ? s : s.substring(0, 21) + "…";
  }

  static String html(ReportData data) {
    StringBuilder h = new StringBuilder();
    h.append("<!doctype html><html><head><meta charset=\"utf-8\"><title>").append(escape(data.title()))
        .append("</title><style>body{font-family:sans-serif;max-width:1500px;margin:2em auto}img{margin:4px;border:1px solid #ddd}"
            + "td,th{padding:2px 8px;text-align:right}table{border-collapse:collapse}tr:nth-child(even){background:#f4f4f4}</style></head><body>");
    h.append("<h1>").append(escape(data.title())).append("</h1>");
    if (!data.training().isEmpty()) {
      TrainPoint last = data.training().get(data.training().size() - 1);
      h.append(String.format(Locale.ROOT, "<p>Iteration %d, epoch %d: loss %.4f, train top-1 error %.3f, top-5 error %.3f, ε %.2g, %.1f images/s.</p>",
          last.iteration(), last.epoch(), last.loss(), last.top1Error(), last.top5Error(), last.learningRate(), last.imagesPerSecond()));
    }
    if (!data.evaluations().isEmpty()) {
      EvalPoint e = data.evaluations().get(data.evaluations().size() - 1);
      h.append(String.format(Locale.ROOT, "<p><b>Validation</b> (iteration %d): top-1 error %.3f, top-5 error %.3f (centre crop); "
          + "%.3f / %.3f (10-view average).</p>", e.iteration(), e.top1Error(), e.top5Error(), e.top1Error10View(), e.top5Error10View()));
    }
    if (data.end() != null) {
      RunEndPoint end = data.end();
      h.append(String.format(Locale.ROOT, "<p><b>Run ended</b> at iteration %d, epoch %d: %s (%s).</p>", end.iteration(),
          end.epoch(), escape(end.description()), escape(end.reason())));
    }
    if (!data.rateChanges().isEmpty()) {
      h.append("<h2>Learning-rate reductions</h2><table id=\"reductions\"><tr><th>iteration</th><th>epoch</th><th>from</th>"
          + "<th>to</th><th>why</th></tr>");
      for (RateChange c : data.rateChanges()) {
        h.append(String.format(Locale.ROOT, "<tr><td>%d</td><td>%d</td><td>%.2e</td><td>%.2e</td><td>%s</td></tr>",
            c.iteration(), c.epoch(), c.from(), c.to(), escape(c.reason())));
      }
      h.append("</table>");
    }
    for (String chart : CHARTS) {
      h.append("<img src=\"").append(chart).append("\" width=\"").append(WIDTH).append("\">");
    }
    if (data.confusion() != null) {
      ConfusionSummary c = data.confusion();
      h.append("<h2>Confusion summary</h2><table><tr><th>class</th><th>accuracy</th></tr>");
      for (int i = 0; i < c.classNames().size(); i++) {
        h.append(String.format(Locale.ROOT, "<tr><td>%s</td><td>%.3f</td></tr>", escape(c.classNames().get(i)), c.accuracyOf(i)));
      }
      h.append("</table><h3>Most frequent confusions</h3><table><tr><th>true</th><th>predicted</th><th>count</th></tr>");
      for (ConfusionSummary.Confusion x : c.topConfusions(10)) {
        h.append("<tr><td>").append(escape(x.label())).append("</td><td>").append(escape(x.predicted())).append("</td><td>")
            .append(x.count()).append("</td></tr>");
      }
      h.append("</table>");
    }
    if (!data.tiles().isEmpty()) {
      h.append("<h2>Sample crops: label → prediction</h2><img src=\"").append(SAMPLES).append("\">");
    }
    h.append("<h2>Series</h2><details><summary>training (").append(data.training().size())
        .append(" points)</summary><table id=\"training\"><tr><th>iteration</th><th>epoch</th><th>loss</th><th>top-1 err</th>"
            + "<th>top-5 err</th><th>ε</th><th>images/s</th><th>data wait</th></tr>");
    for (TrainPoint p : data.training()) {
      h.append(String.format(Locale.ROOT, "<tr><td>%d</td><td>%d</td><td>%.5f</td><td>%.4f</td><td>%.4f</td><td>%.3g</td><td>%.2f</td><td>%.3f</td></tr>",
          p.iteration(), p.epoch(), p.loss(), p.top1Error(), p.top5Error(), p.learningRate(), p.imagesPerSecond(), p.dataWaitFraction()));
    }
    h.append("</table></details><details><summary>validation (").append(data.evaluations().size())
        .append(" points)</summary><table id=\"validation\"><tr><th>iteration</th><th>epoch</th><th>top-1</th><th>top-5</th>"
            + "<th>top-1 10-view</th><th>top-5 10-view</th></tr>");
    for (EvalPoint e : data.evaluations()) {
      h.append(String.format(Locale.ROOT, "<tr><td>%d</td><td>%d</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%.4f</td></tr>",
          e.iteration(), e.epoch(), e.top1Error(), e.top5Error(), e.top1Error10View(), e.top5Error10View()));
    }
    h.append("</table></details></body></html>\n");
    return h.toString();
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
