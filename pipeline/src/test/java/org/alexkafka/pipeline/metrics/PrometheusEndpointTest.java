package org.alexkafka.pipeline.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Metrics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

class PrometheusEndpointTest {

  @Test
  void servesWhatServicesRecordIntoTheGlobalRegistry() throws Exception {
    try (PrometheusEndpoint endpoint = PrometheusEndpoint.start(0)) {
      Counter published = Counter.builder("ingest.images.published").register(Metrics.globalRegistry);
      published.increment(3);

      HttpResponse<String> response = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + endpoint.port() + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString());

      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/plain"));
      assertThat(response.body()).contains("ingest_images_published_total 3.0").contains("jvm_memory_used_bytes");
    }
  }
}
