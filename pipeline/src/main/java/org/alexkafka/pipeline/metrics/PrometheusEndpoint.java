package org.alexkafka.pipeline.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;

/**
 * Serves every meter of the process in Prometheus format with the Prometheus client's own
 * exporter ({@link HTTPServer}): {@code GET /metrics} (text, OpenMetrics or protobuf, as the
 * scraper asks) and {@code GET /-/healthy} (200 while the service runs). Services record into
 * Micrometer's global registry, so they need not know whether anyone scrapes them; the endpoint
 * adds the JVM's meters (GC, memory, threads, classes, CPU, uptime, open files; Micrometer's
 * names, as its dashboards know them, but CPU time in seconds) and, where JavaCPP
 * is on the class path, its native-memory gauges ({@link JavaCppMetrics}).
 *
 * <p>Listens on 127.0.0.1 unless told otherwise ({@code --metrics-bind}).
 */
public final class PrometheusEndpoint implements AutoCloseable {

  /** Where the endpoint listens unless told otherwise: this machine only. */
  public static final String DEFAULT_BIND = "127.0.0.1";

  private final PrometheusMeterRegistry registry;
  private final JvmGcMetrics gc;
  private final HTTPServer server;
  private final InetAddress address;

  private PrometheusEndpoint(PrometheusMeterRegistry registry, JvmGcMetrics gc, HTTPServer server, InetAddress address) {
    this.registry = registry;
    this.gc = gc;
    this.server = server;
    this.address = address;
  }

  /** Starts serving on {@code port} (0 = any free port) on 127.0.0.1. */
  public static PrometheusEndpoint start(int port) throws IOException {
    return start(DEFAULT_BIND, port);
  }

  /**
   * Starts serving on {@code bind}:{@code port} (0 = any free port; bind 0.0.0.0 = every
   * interface, as a container needs for its published port).
   *
   * @throws IOException the address is unknown or the port taken
   */
  public static PrometheusEndpoint start(String bind, int port) throws IOException {
    InetAddress address = InetAddress.getByName(bind);
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    JvmGcMetrics gc = new JvmGcMetrics();
    try {
      // ProcessorMetrics counts the process's CPU time in nanoseconds (process_cpu_time_ns_total):
      // Prometheus wants base units, and its clients' own name for it, process_cpu_seconds_total
      registry.config().meterFilter(MeterFilter.deny(id -> id.getName().equals("process.cpu.time")));
      if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
        FunctionCounter.builder("process.cpu", os, o -> o.getProcessCpuTime() / 1e9).baseUnit("seconds")
            .description("CPU time the process has used").register(registry);
      }
      new ClassLoaderMetrics().bindTo(registry);
      new JvmMemoryMetrics().bindTo(registry);
      gc.bindTo(registry);
      new JvmThreadMetrics().bindTo(registry);
      new JvmInfoMetrics().bindTo(registry);
      new ProcessorMetrics().bindTo(registry);
      new UptimeMetrics().bindTo(registry);
      new FileDescriptorMetrics().bindTo(registry);
      JavaCppMetrics.bindIfPresent(registry);
      HTTPServer server = HTTPServer.builder().inetAddress(address).port(port)
          .registry(registry.getPrometheusRegistry()).buildAndStart();
      Metrics.addRegistry(registry);
      return new PrometheusEndpoint(registry, gc, server, address);
    } catch (IOException | RuntimeException e) {
      gc.close();
      registry.close();
      throw e;
    }
  }

  public int port() {
    return server.getPort();
  }

  /** The address it listens on. */
  public InetAddress address() {
    return address;
  }

  /** {@code http://ADDRESS:PORT}, for the log. */
  public String url() {
    String host = address.getHostAddress();
    return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port();
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  @Override
  public void close() {
    server.close();
    Metrics.removeRegistry(registry);
    gc.close();
    registry.close();
  }
}
