package org.alexkafka.pipeline.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** One scrape of {@code http://127.0.0.1:PORT/metrics} in the Prometheus text format, parsed. */
record Scrape(String contentType, String body, Map<String, Double> series, Map<String, String> types) {

  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{.*})?\\s+(\\S+)(\\s+\\d+)?$");
  private static final Pattern TYPE = Pattern.compile("^# TYPE (\\S+) (\\S+)$");
  /**
   * Prometheus' base units, which a name carries once at most. (Micrometer's JVM meters repeat a
   * counted noun, {@code jvm_classes_loaded_classes}: its names, which its dashboards use, are kept.)
   */
  private static final Pattern UNIT = Pattern.compile("_(bytes|seconds|ratio|meters|grams|celsius|volts|amperes|joules)(?=_|$)");

  static HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(30)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static Scrape of(int port) throws IOException, InterruptedException {
    HttpResponse<String> response = get(port, "/metrics");
    assertThat(response.statusCode()).as("GET /metrics").isEqualTo(200);
    Map<String, Double> series = new LinkedHashMap<>();
    Map<String, String> types = new LinkedHashMap<>();
    for (String line : response.body().split("\n")) {
      Matcher type = TYPE.matcher(line);
      if (type.matches()) {
        types.put(type.group(1), type.group(2));
        continue;
      }
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      Matcher m = SAMPLE.matcher(line);
      assertThat(m.matches()).as("a sample line: " + line).isTrue();
      series.put(m.group(1) + (m.group(2) == null ? "" : m.group(2)), Double.parseDouble(m.group(3)));
    }
    return new Scrape(response.headers().firstValue("Content-Type").orElse(""), response.body(), series, types);
  }

  /** Scrapes until {@code ready} holds (10 s at most), as Prometheus would, every 100 ms. */
  static Scrape await(int port, Predicate<Scrape> ready) throws IOException, InterruptedException {
    return await(port, ready, Duration.ofSeconds(10));
  }

  static Scrape await(int port, Predicate<Scrape> ready, Duration timeout) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    Scrape s = of(port);
    while (!ready.test(s)) {
      assertThat(System.nanoTime()).as("not within " + timeout.toSeconds() + " s; last scrape:\n" + s.body()).isLessThan(deadline);
      Thread.sleep(100);
      s = of(port);
    }
    return s;
  }

  /** The sample names (without labels). */
  Set<String> names() {
    Set<String> names = new TreeSet<>();
    series.keySet().forEach(k -> names.add(k.replaceFirst("\\{.*", "")));
    return names;
  }

  /** The value of one series: its name with its labels as exposed ({@code a_total{x="y"}}), or a name of one series only. */
  double value(String series) {
    Double v = this.series.get(series);
    if (v == null) {
      List<String> close = this.series.keySet().stream().filter(k -> k.startsWith(series.replaceFirst("\\{.*", ""))).toList();
      throw new AssertionError("no series " + series + " in the scrape; of that name: " + close);
    }
    return v;
  }

  /** The sum over every series of {@code name}, whatever their labels (0 if there is none). */
  double sum(String name) {
    return series.entrySet().stream().filter(e -> e.getKey().equals(name) || e.getKey().startsWith(name + "{"))
        .mapToDouble(Map.Entry::getValue).sum();
  }

  /**
   * The rules of https://prometheus.io/docs/practices/naming/ that a scrape can show: every counter
   * ends in {@code _total}, no name carries a unit twice nor a non-base unit (milliseconds, kilobytes),
   * a rate is a counter (no {@code _per_second} gauges of the project), and a name says either error
   * or accuracy, never neither nor both. The Kafka clients' {@code kafka_*} series keep Kafka's names.
   */
  void assertFollowsTheNamingRules() {
    types.forEach((family, type) -> {
      if (type.equals("counter")) {
        assertThat(family).as("a counter's name").endsWith("_total");
      }
    });
    for (String name : names()) {
      if (name.startsWith("kafka_")) {
        continue; // the Kafka clients' own metrics under Kafka's names (its docs describe them): not the project's to rename
      }
      Matcher units = UNIT.matcher(name);
      Map<String, Integer> seen = new LinkedHashMap<>();
      while (units.find()) {
        seen.merge(units.group(1), 1, Integer::sum);
      }
      seen.forEach((unit, times) -> assertThat(times).as(name + " says " + unit + " " + times + " times").isEqualTo(1));
      assertThat(name).as("a base unit").doesNotContainPattern("_(ns|us|ms|nanos|micros|millis|nanoseconds|microseconds|milliseconds|minutes|hours|kilobytes|megabytes|gigabytes|percent)(_|$)");
      if (name.matches("(ingest|augment|trainer|javacpp)_.*")) {
        assertThat(name).as("a rate is a counter used with rate()").doesNotContainPattern("per_second|_rate$");
        if (name.matches(".*(top1|top5).*")) {
          assertThat(name.contains("error") ^ name.contains("accuracy")).as(name + ": error or accuracy, one of them").isTrue();
        }
      }
    }
  }
}
