package org.alexkafka.pipeline.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.Metrics;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.alexkafka.augment.AugmentMetrics;
import org.alexkafka.ingest.IngestStats;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The endpoint as a service has it: the services' own meter classes recording into Micrometer's
 * global registry, scraped over HTTP on 127.0.0.1 ({@link Scrape}). {@code ServiceMetricsIT}
 * scrapes the real services in JVMs of their own.
 */
class PrometheusEndpointTest {

  @AfterEach
  void forgetTheMeters() {
    Metrics.globalRegistry.clear();
  }

  @Test
  void servesTheServicesMetersUnderPrometheusNames() throws Exception {
    try (PrometheusEndpoint endpoint = PrometheusEndpoint.start(0)) {
      new IngestStats(Metrics.globalRegistry);
      AugmentMetrics augment = new AugmentMetrics(Metrics.globalRegistry);
      augment.sampleEmitted("t.samples.train");
      augment.sampleEmitted("t.samples.train");
      augment.sampleEmitted("t.samples.val");
      augment.rejected("poison-record");
      augment.imageCounted();
      augment.labelWaited();

      Scrape scrape = Scrape.of(endpoint.port());

      assertThat(scrape.contentType()).startsWith("text/plain");
      assertThat(scrape.value("ingest_images_seen_total")).isEqualTo(0.0);
      assertThat(scrape.value("ingest_images_published_total")).isEqualTo(0.0);
      assertThat(scrape.value("ingest_images_duplicates_total")).isEqualTo(0.0);
      assertThat(scrape.value("ingest_pixels_published_bytes_total")).isEqualTo(0.0);
      assertThat(scrape.value("augment_samples_total{topic=\"t.samples.train\"}")).isEqualTo(2.0);
      assertThat(scrape.value("augment_samples_total{topic=\"t.samples.val\"}")).isEqualTo(1.0);
      assertThat(scrape.value("augment_records_rejected_total{reason=\"poison-record\"}")).isEqualTo(1.0);
      assertThat(scrape.value("augment_stats_images_total")).isEqualTo(1.0);
      assertThat(scrape.value("augment_images_held_for_label_total")).isEqualTo(1.0);
      assertThat(scrape.names()).as("the old names")
          .doesNotContain("ingest_bytes_published_bytes_total", "augment_rejected_total", "augment_labels_waited_total");
      scrape.assertFollowsTheNamingRules();
    }
  }

  @Test
  void addsTheJvmMetersAndJavaCppsNativeMemory() throws Exception {
    try (PrometheusEndpoint endpoint = PrometheusEndpoint.start(0)) {
      System.gc(); // JvmGcMetrics registers the pause timer on the first collection it is told of
      Scrape scrape = Scrape.await(endpoint.port(), s -> s.names().contains("jvm_gc_pause_seconds_count"));

      assertThat(scrape.names()).contains("jvm_gc_pause_seconds_count", "jvm_gc_pause_seconds_sum",
          "jvm_gc_memory_allocated_bytes_total", "jvm_gc_live_data_size_bytes",
          "jvm_memory_used_bytes", "jvm_threads_live_threads", "jvm_classes_loaded_classes", "jvm_info",
          "process_cpu_usage", "system_cpu_count", "process_files_open_files", "process_start_time_seconds");
      assertThat(scrape.value("process_uptime_seconds")).isPositive();
      // CPU time in seconds, under the Prometheus clients' own name, not Micrometer's nanoseconds
      assertThat(scrape.value("process_cpu_seconds_total")).isPositive().isLessThan(1e6);
      assertThat(scrape.names()).doesNotContain("process_cpu_time_ns_total");
      // JavaCPP is on the pipeline's class path: the resident set it measures is the process's, tens of MB at least
      assertThat(scrape.value("javacpp_physical_memory_bytes")).isGreaterThan(10e6);
      assertThat(scrape.value("javacpp_physical_memory_max_bytes")).isGreaterThanOrEqualTo(0.0);
      assertThat(scrape.value("javacpp_pointer_memory_bytes")).isGreaterThanOrEqualTo(0.0);
      assertThat(scrape.value("javacpp_pointer_memory_max_bytes")).isPositive();
      scrape.assertFollowsTheNamingRules();
    }
  }

  @Test
  void withoutJavaCppTheEndpointStartsAndHasNoJavaCppGauges() throws Exception {
    // a class loader that sees everything but JavaCPP, as the slim ingest/augment image has it
    ClassLoader app = PrometheusEndpointTest.class.getClassLoader();
    ClassLoader withoutJavaCpp = new ClassLoader(app) {
      @Override
      protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        if (name.startsWith("org.bytedeco.")) {
          throw new ClassNotFoundException(name);
        }
        if (name.startsWith("org.alexkafka.pipeline.metrics.")) { // defined here, so that it looks for JavaCPP here
          synchronized (getClassLoadingLock(name)) {
            Class<?> c = findLoadedClass(name);
            if (c == null) {
              try (var in = app.getResourceAsStream(name.replace('.', '/') + ".class")) {
                byte[] bytes = in.readAllBytes();
                c = defineClass(name, bytes, 0, bytes.length);
              } catch (IOException e) {
                throw new ClassNotFoundException(name, e);
              }
            }
            return c;
          }
        }
        return super.loadClass(name, resolve);
      }
    };
    Class<?> endpointClass = withoutJavaCpp.loadClass(PrometheusEndpoint.class.getName());
    assertThat(endpointClass).isNotSameAs(PrometheusEndpoint.class);
    try (AutoCloseable endpoint = (AutoCloseable) endpointClass.getMethod("start", int.class).invoke(null, 0)) {
      int port = (int) endpointClass.getMethod("port").invoke(endpoint);
      Scrape scrape = Scrape.of(port);
      assertThat(scrape.names()).contains("jvm_memory_used_bytes", "process_uptime_seconds")
          .noneMatch(n -> n.startsWith("javacpp_"));
    }
  }

  @Test
  void saysItIsHealthyWhileItRuns() throws Exception {
    int port;
    try (PrometheusEndpoint endpoint = PrometheusEndpoint.start(0)) {
      port = endpoint.port();
      var healthy = Scrape.get(port, "/-/healthy");
      assertThat(healthy.statusCode()).isEqualTo(200);
      assertThat(healthy.body()).containsIgnoringCase("healthy").hasSizeLessThan(100);
      // what the compose healthchecks send through bash's /dev/tcp: HTTP/1.0, no Host header
      try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
        s.getOutputStream().write("GET /-/healthy HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        String status = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
        assertThat(status).matches("HTTP/1\\.[01] 200 .*");
      }
    }
    assertThatThrownBy(() -> Scrape.get(port, "/-/healthy")).as("closed with the service").isInstanceOf(ConnectException.class);
  }

  @Test
  void listensOnLoopbackOnlyByDefault() throws Exception {
    try (PrometheusEndpoint endpoint = PrometheusEndpoint.start(0)) {
      assertThat(endpoint.address().getHostAddress()).isEqualTo("127.0.0.1");
      assertThat(endpoint.url()).isEqualTo("http://127.0.0.1:" + endpoint.port());
      assertThat(Listening.addresses(endpoint.port())).as("the kernel's listening sockets on the port")
          .isNotEmpty().allSatisfy(a -> assertThat(a.isLoopbackAddress()).as(a.toString()).isTrue());
      for (InetAddress other : Listening.nonLoopbackAddressesOfThisMachine()) {
        try (Socket s = new Socket()) {
          assertThatThrownBy(() -> s.connect(new InetSocketAddress(other, endpoint.port()), 2000))
              .as("reachable at " + other).isInstanceOf(ConnectException.class);
        }
      }
    }
  }

  @Test
  void listensWhereItIsTold() throws Exception {
    try (PrometheusEndpoint endpoint = PrometheusEndpoint.start("localhost", 0)) {
      assertThat(endpoint.address().isLoopbackAddress()).isTrue();
      assertThat(Scrape.get(endpoint.port(), "/metrics").statusCode()).isEqualTo(200);
    }
    assertThatThrownBy(() -> PrometheusEndpoint.start("no-such-host.invalid", 0)).isInstanceOf(IOException.class);
  }

  @Test
  void aTakenPortFailsTheStartAndLeavesNoRegistryBehind() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int registries = Metrics.globalRegistry.getRegistries().size();
      assertThatThrownBy(() -> PrometheusEndpoint.start(taken.getLocalPort())).isInstanceOf(IOException.class);
      assertThat(Metrics.globalRegistry.getRegistries()).hasSize(registries);
    }
  }

  @Test
  void closingRemovesItsRegistryFromTheGlobalOne() throws Exception {
    PrometheusEndpoint endpoint = PrometheusEndpoint.start(0);
    assertThat(Metrics.globalRegistry.getRegistries()).contains(endpoint.registry());
    endpoint.close();
    assertThat(Metrics.globalRegistry.getRegistries()).doesNotContain(endpoint.registry());
  }
}
