package org.alexkafka.trainer.report;

import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * The report's HTML: one page with no external references (styles inline, images as data URIs),
 * which reloads itself while the run has no end record.
 */
final class ReportPage {

  /** Seconds between reloads of a running run's page. */
  static final int REFRESH_SECONDS = 30;
  static final String[] CHART_IDS = {"chart-loss", "chart-error", "chart-learning-rate", "chart-throughput"};
  private static final String[] CHART_TITLES = {"Training loss", "Top-1 and top-5 error", "Learning rate", "Throughput"};

  private static final String STYLE = "body{font-family:sans-serif;max-width:1500px;margin:2em auto;padding:0 1em;color:#222}"
      + "img{border:1px solid #ddd;max-width:100%;height:auto}figure{margin:4px;display:inline-block;vertical-align:top}"
      + "td,th{padding:2px 8px;text-align:right;vertical-align:top}td:first-child,th:first-child{text-align:left}"
      + "table{border-collapse:collapse;margin-bottom:1em}tr:nth-child(even){background:#f4f4f4}"
      + "th.section{background:#e4e8ee;text-align:left}.note{color:#555;font-size:90%}"
      + ".grid{display:flex;flex-wrap:wrap;gap:8px}.tile{width:" + TrainingReport.TILE + "px;margin:0;border:2px solid #ccc;"
      + "border-radius:3px;padding:3px;font-size:11px;line-height:1.3}.tile img{width:100%;border:0;display:block}"
      + ".tile figcaption{overflow-wrap:anywhere;white-space:normal}.tile.wrong{border-color:#c0392b}"
      + ".tile.right{border-color:#27ae60}.tile ol{margin:2px 0 0;padding-left:1.4em}.tile .truth{font-weight:bold}"
      + ".p{color:#555}#settings td,#confusions td:nth-child(2){text-align:left}";

  private ReportPage() {}

  /**
   * @param charts PNGs of loss, error, learning rate and throughput, in that order
   * @param heatmap PNG of the confusion matrix, or null before an evaluation
   * @param tiles JPEGs of the sample crops, one per {@code data.tiles()}
   */
  static String html(ReportData data, List<byte[]> charts, byte[] heatmap, List<byte[]> tiles) {
    StringBuilder h = new StringBuilder();
    h.append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">");
    if (data.running()) {
      h.append("<meta http-equiv=\"refresh\" content=\"").append(REFRESH_SECONDS).append("\">");
    }
    h.append("<title>").append(escape(data.title())).append("</title><style>").append(STYLE).append("</style></head><body>");
    h.append("<h1>").append(escape(data.title())).append("</h1>");
    summary(h, data);
    settings(h, data.settings());
    curves(h, data, charts);
    classes(h, data.confusion(), heatmap);
    samples(h, data.tiles(), tiles);
    series(h, data);
    h.append("</body></html>\n");
    return h.toString();
  }

  private static void summary(StringBuilder h, ReportData data) {
    if (data.running()) {
      h.append("<p class=\"note\" id=\"status\">The run is going on: this page reloads every ").append(REFRESH_SECONDS)
          .append(" s.</p>");
    }
    if (!data.training().isEmpty()) {
      TrainPoint last = data.training().get(data.training().size() - 1);
      h.append(String.format(Locale.ROOT, "<p>Iteration %d, epoch %d: loss %.4f, train top-1 error %.3f, top-5 error %.3f "
              + "(last batch), ε %s, %.1f images/s.</p>", last.iteration(), last.epoch(), last.loss(), last.top1Error(),
          last.top5Error(), ReportCharts.scientific().format(last.learningRate()), last.imagesPerSecond()));
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
  }

  private static void settings(StringBuilder h, RunSettings s) {
    h.append("<h2>Settings</h2><table id=\"settings\">");
    section(h, "Run", s.run());
    section(h, "Data", s.data());
    section(h, "Trainer options", s.options());
    if (s.run().isEmpty() && s.data().isEmpty() && s.options().isEmpty()) {
      h.append("<tr><td>not recorded</td></tr>");
    }
    h.append("</table>");
  }

  private static void section(StringBuilder h, String title, List<RunSettings.Setting> rows) {
    if (rows.isEmpty()) {
      return;
    }
    h.append("<tr><th class=\"section\" colspan=\"2\">").append(escape(title)).append("</th></tr>");
    for (RunSettings.Setting r : rows) {
      h.append("<tr><td>").append(escape(r.name())).append("</td><td>").append(escape(r.value())).append("</td></tr>");
    }
  }

  private static void curves(StringBuilder h, ReportData data, List<byte[]> charts) {
    h.append("<h2>Curves</h2><p class=\"note\">Faint lines: the values as logged; solid lines over them: an exponential "
        + "moving average (debiased, as TensorBoard smooths). Validation points are drawn as measured. Grey lines: "
        + "epoch starts; red dashed lines: learning-rate reductions. Bottom axis: iterations; top axis: elapsed wall "
        + "time. Loss and learning rate on log scales.</p>");
    for (int i = 0; i < charts.size(); i++) {
      h.append("<figure><img id=\"").append(CHART_IDS[i]).append("\" alt=\"").append(CHART_TITLES[i]).append("\" width=\"")
          .append(TrainingReport.WIDTH).append("\" height=\"").append(TrainingReport.HEIGHT).append("\" src=\"")
          .append(dataUri("image/png", charts.get(i))).append("\"></figure>");
    }
    if (!data.rateChanges().isEmpty()) {
      h.append("<h3>Learning-rate reductions</h3><table id=\"reductions\"><tr><th>iteration</th><th>epoch</th><th>from</th>"
          + "<th>to</th><th>why</th></tr>");
      for (RateChange c : data.rateChanges()) {
        h.append(String.format(Locale.ROOT, "<tr><td>%d</td><td>%d</td><td>%.2e</td><td>%.2e</td><td>%s</td></tr>",
            c.iteration(), c.epoch(), c.from(), c.to(), escape(c.reason())));
      }
      h.append("</table>");
    }
  }

  private static void classes(StringBuilder h, ConfusionSummary c, byte[] heatmap) {
    h.append("<h2>Per class</h2>");
    if (c == null) {
      h.append("<p>No evaluation yet.</p>");
      return;
    }
    h.append("<table id=\"per-class\"><tr><th>class</th><th>validation images</th><th>top-1 error</th></tr>");
    for (int i = 0; i < c.classNames().size(); i++) {
      h.append(String.format(Locale.ROOT, "<tr><td>%s</td><td>%d</td><td>%s</td></tr>", escape(c.classNames().get(i)),
          c.imagesOf(i), Double.isNaN(c.top1ErrorOf(i)) ? "—" : String.format(Locale.ROOT, "%.3f", c.top1ErrorOf(i))));
    }
    h.append("</table>");
    if (heatmap != null) {
      h.append("<figure><img id=\"confusion-heatmap\" alt=\"Confusion matrix\" src=\"").append(dataUri("image/png", heatmap))
          .append("\"></figure>");
    }
    h.append("<h3>Most frequent confusions</h3><table id=\"confusions\"><tr><th>true</th><th>predicted</th><th>count</th></tr>");
    List<ConfusionSummary.Confusion> top = c.topConfusions(10);
    if (top.isEmpty()) {
      h.append("<tr><td colspan=\"3\">none</td></tr>");
    }
    for (ConfusionSummary.Confusion x : top) {
      h.append("<tr><td>").append(escape(x.label())).append("</td><td>").append(escape(x.predicted())).append("</td><td>")
          .append(x.count()).append("</td></tr>");
    }
    h.append("</table>");
  }

  private static void samples(StringBuilder h, List<PredictionTile> tiles, List<byte[]> jpegs) {
    if (tiles.isEmpty()) {
      return;
    }
    h.append("<h2>Sample crops</h2><p class=\"note\">Wrong predictions first (red), then right ones (green); under each "
        + "crop its true class and the network's three likeliest classes.</p><div id=\"samples\" class=\"grid\">");
    for (int i = 0; i < tiles.size(); i++) {
      PredictionTile t = tiles.get(i);
      h.append("<figure class=\"tile ").append(t.correct() ? "right" : "wrong").append("\"><img alt=\"")
          .append(escape(t.label())).append("\" src=\"").append(dataUri("image/jpeg", jpegs.get(i)))
          .append("\"><figcaption><div class=\"truth\">").append(escape(t.label())).append("</div><ol>");
      for (PredictionTile.Guess g : t.top()) {
        h.append("<li>").append(escape(g.name())).append(String.format(Locale.ROOT, " <span class=\"p\">%.1f%%</span></li>",
            100 * g.probability()));
      }
      h.append("</ol></figcaption></figure>");
    }
    h.append("</div>");
  }

  private static void series(StringBuilder h, ReportData data) {
    h.append("<h2>Series</h2><details><summary>training (").append(data.training().size())
        .append(" points)</summary><table id=\"training\"><tr><th>iteration</th><th>epoch</th><th>loss</th><th>top-1 error</th>"
            + "<th>top-5 error</th><th>ε</th><th>images/s</th><th>data wait</th><th>elapsed</th></tr>");
    for (TrainPoint p : data.training()) {
      h.append(String.format(Locale.ROOT, "<tr><td>%d</td><td>%d</td><td>%.5f</td><td>%.4f</td><td>%.4f</td><td>%.3g</td>"
              + "<td>%.2f</td><td>%.3f</td><td>%s</td></tr>", p.iteration(), p.epoch(), p.loss(), p.top1Error(), p.top5Error(),
          p.learningRate(), p.imagesPerSecond(), p.dataWaitFraction(), Elapsed.format(p.elapsedSeconds())));
    }
    h.append("</table></details><details><summary>validation (").append(data.evaluations().size())
        .append(" points)</summary><table id=\"validation\"><tr><th>iteration</th><th>epoch</th><th>top-1 error</th>"
            + "<th>top-5 error</th><th>top-1 error, 10 views</th><th>top-5 error, 10 views</th></tr>");
    for (EvalPoint e : data.evaluations()) {
      h.append(String.format(Locale.ROOT, "<tr><td>%d</td><td>%d</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%.4f</td></tr>",
          e.iteration(), e.epoch(), e.top1Error(), e.top5Error(), e.top1Error10View(), e.top5Error10View()));
    }
    h.append("</table></details>");
  }

  private static String dataUri(String type, byte[] bytes) {
    return "data:" + type + ";base64," + Base64.getEncoder().encodeToString(bytes);
  }

  static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
