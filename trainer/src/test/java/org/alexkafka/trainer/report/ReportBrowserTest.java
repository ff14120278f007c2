package org.alexkafka.trainer.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.alexkafka.schemas.LabelEntry;
import org.alexkafka.schemas.Sample;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report as a person sees it: rendered by a real browser (Debian's headless chromium, which CI
 * installs too), not only read as text. A script appended to a copy of the page records, once the
 * page has loaded, which images the browser could decode and at what size; the test reads the
 * serialised DOM back.
 */
class ReportBrowserTest {

  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final String PROBE = "<script>addEventListener('load',()=>{for(const i of document.images)"
      + "i.dataset.decoded=i.naturalWidth+'x'+i.naturalHeight;document.body.dataset.loaded='yes'})</script>";
  private static final String[] IDS = {"n03028079", "n01440764", "n03000684", "n03417042"};

  @Test
  void chromiumRendersTheChartsTablesHeatmapAndClassNames(@TempDir Path tmp) throws Exception {
    assumeTrue(Files.isExecutable(CHROMIUM), "no " + CHROMIUM + " (apt-get install chromium): the browser check is skipped");
    Path runDir = tmp.resolve("run");
    Files.createDirectories(runDir);
    Files.writeString(runDir.resolve("metrics.jsonl"), metrics());
    ReportCollector collector = evaluation();

    Path html = TrainingReports.write(runDir, "browser check", collector);

    String page = Files.readString(html);
    assertThat(page).doesNotContainPattern("(src|href)=\"(https?:)?//");
    Path probed = html.resolveSibling("probed.html");
    Files.writeString(probed, page.replace("</body>", PROBE + "</body>"));
    String dom = dumpDom(probed, tmp.resolve("profile"));
    if (System.getProperty("report.preview") != null) { // to look at it: -Dreport.preview=/some/dir
      Files.createDirectories(Path.of(System.getProperty("report.preview")));
      Files.copy(html, Path.of(System.getProperty("report.preview"), "index.html"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    assertThat(dom).contains("data-loaded=\"yes\"");
    for (String chart : ReportPage.CHART_IDS) {
      assertThat(decodedSize(dom, chart)).as(chart).isEqualTo(TrainingReport.WIDTH + "x" + TrainingReport.HEIGHT);
    }
    String heatmap = decodedSize(dom, "confusion-heatmap");
    assertThat(heatmap).isNotNull().isNotEqualTo("0x0");
    assertThat(dom).containsPattern("(?s)<table id=\"settings\">.*<td>engine</td><td>dl4j</td>.*<td>batchSize</td><td>32</td>");
    assertThat(dom).containsPattern("(?s)<table id=\"per-class\">.*<td>church \\(n03028079\\)</td><td>3</td>");
    assertThat(dom).contains("<td>n03417042</td>"); // a class without a human name: its id alone
    assertThat(dom).containsPattern("(?s)<table id=\"confusions\">.*<td>tench \\(n01440764\\)</td><td>church \\(n03028079\\)</td>");
    // the sample grid: wrong first, with the top 3, every crop decoded
    Matcher tiles = Pattern.compile("<figure class=\"tile (wrong|right)\">").matcher(dom);
    List<String> order = new ArrayList<>();
    while (tiles.find()) {
      order.add(tiles.group(1));
    }
    assertThat(order).containsExactly("wrong", "wrong", "right", "right");
    assertThat(dom).containsPattern("<figure class=\"tile wrong\"><img alt=\"tench \\(n01440764\\)\"[^>]*data-decoded=\"4x4\"");
    assertThat(dom.split("<li>", -1)).hasSize(4 * 3 + 1);
    assertThat(dom).contains("<meta http-equiv=\"refresh\" content=\"30\">"); // no end row yet: it reloads
  }

  /** {@code chromium --headless --dump-dom}: the DOM after the load event, its scripts run. */
  private static String dumpDom(Path page, Path profile) throws Exception {
    Process p = new ProcessBuilder(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-dev-shm-usage", "--no-first-run", "--user-data-dir=" + profile, "--dump-dom", page.toUri().toString())
        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    p.getOutputStream().close();
    byte[] out = p.getInputStream().readAllBytes(); // read while it runs: the DOM may not fit in a pipe's buffer
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("chromium finished").isTrue();
    assertThat(p.exitValue()).isZero();
    return new String(out, StandardCharsets.UTF_8);
  }

  /** The "WxH" the probe recorded for the image with this id, or null. */
  private static String decodedSize(String dom, String id) {
    Matcher m = Pattern.compile("<img id=\"" + id + "\"[^>]*data-decoded=\"([0-9]+x[0-9]+)\"").matcher(dom);
    return m.find() ? m.group(1) : null;
  }

  private static String metrics() {
    StringBuilder rows = new StringBuilder();
    rows.append("{\"kind\":\"start\",\"time\":\"2026-01-01T10:00:00Z\",\"epoch\":1,\"iteration\":0,\"engine\":\"dl4j\","
        + "\"device\":\"cpu\",\"parameters\":1000,\"seed\":7,\"git_commit\":\"unknown\",\"train_images\":40,\"java\":\"17\","
        + "\"config\":{\"profile\":\"small\",\"classes\":4,\"batchSize\":32}}\n");
    for (int epoch = 1; epoch <= 3; epoch++) {
      rows.append(String.format("{\"kind\":\"epoch\",\"time\":\"2026-01-01T10:%02d:00Z\",\"epoch\":%d,\"iteration\":%d,"
          + "\"train_offsets\":400}%n", (epoch - 1) * 10, epoch, (epoch - 1) * 100));
      for (int i = 1; i <= 10; i++) {
        long it = (epoch - 1) * 100L + i * 10;
        double loss = 1.4 / Math.sqrt(it / 10.0) + 0.05 * ((i * 7) % 3);
        rows.append(String.format(java.util.Locale.ROOT, "{\"kind\":\"train\",\"time\":\"2026-01-01T10:%02d:%02dZ\","
                + "\"epoch\":%d,\"iteration\":%d,\"loss\":%.4f,\"top1_error\":%.3f,\"top5_error\":%.3f,"
                + "\"images_per_second\":%d,\"data_seconds\":0.1,\"compute_seconds\":0.9,\"learning_rate\":%s}%n",
            (epoch - 1) * 10 + i - 1, (i * 13) % 60, epoch, it, loss, Math.min(0.9, loss / 2), Math.min(0.5, loss / 4),
            50 + (i % 4), epoch < 3 ? "0.01" : "0.001"));
      }
      rows.append(String.format(java.util.Locale.ROOT, "{\"kind\":\"eval\",\"time\":\"2026-01-01T10:%02d:59Z\",\"epoch\":%d,"
          + "\"iteration\":%d,\"images\":12,\"top1_error\":%.2f,\"top5_error\":0.1,\"ten_view_images\":12,"
          + "\"ten_view_top1_error\":%.2f,\"ten_view_top5_error\":0.05}%n", epoch * 10 - 1, epoch, epoch * 100,
          0.7 - 0.1 * epoch, 0.65 - 0.1 * epoch));
    }
    rows.append("{\"kind\":\"lr\",\"time\":\"2026-01-01T10:20:00Z\",\"epoch\":2,\"iteration\":200,\"from\":0.01,\"to\":0.001,"
        + "\"reduction\":1,\"reason\":\"validation error has not improved\"}\n");
    return rows.toString();
  }

  /** An evaluation of 12 crops of 4 classes (one without a name), 2 of them wrong. */
  private static ReportCollector evaluation() {
    ClassNames names = new ClassNames(List.of(new LabelEntry(IDS[0], 0, "church, church building"),
        new LabelEntry(IDS[1], 1, "tench, Tinca tinca"), new LabelEntry(IDS[2], 2, "chain saw, chainsaw"),
        new LabelEntry(IDS[3], 3, "")));
    ReportCollector collector = new ReportCollector(4, 4, names);
    for (int i = 0; i < 12; i++) {
      int truth = i % 4;
      float[] p = {0.1f, 0.1f, 0.1f, 0.1f};
      int predicted = i == 5 ? 0 : i == 7 ? 2 : truth;
      p[predicted] = 0.7f;
      collector.accept(sample(i, truth), p);
    }
    return collector;
  }

  private static Sample sample(int i, int truth) {
    byte[] px = new byte[4 * 4 * 3];
    px[0] = (byte) 255;
    return Sample.newBuilder().setImageId("img-" + i).setClassIndex(truth).setLabel(IDS[truth]).setImageSize(8)
        .setCropSize(4).setCropX(0).setCropY(0).setMirrored(false).setLighting(List.of(0f, 0f, 0f)).setVariant(0)
        .setViews(1).setPixels(java.nio.ByteBuffer.wrap(px)).build();
  }
}
