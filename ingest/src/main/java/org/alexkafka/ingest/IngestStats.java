package org.alexkafka.ingest;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The service's counters, kept twice: as exact totals for {@link IngestSummary} and as Micrometer
 * meters ({@code ingest.images.seen|published|duplicates|rejected{reason}}, {@code ingest.bytes.published}).
 */
public final class IngestStats {

  private final MeterRegistry registry;
  private final AtomicLong seen = new AtomicLong();
  private final AtomicLong published = new AtomicLong();
  private final AtomicLong duplicates = new AtomicLong();
  private final AtomicLong rejected = new AtomicLong();
  private final AtomicLong bytes = new AtomicLong();
  private final Map<String, AtomicLong> byReason = new ConcurrentHashMap<>();
  private final Counter seenCounter;
  private final Counter publishedCounter;
  private final Counter duplicateCounter;
  private final Counter bytesCounter;

  public IngestStats(MeterRegistry registry) {
    this.registry = registry;
    seenCounter = Counter.builder("ingest.images.seen").description("Inputs looked at").register(registry);
    publishedCounter = Counter.builder("ingest.images.published").description("Images published to the images topic").register(registry);
    duplicateCounter = Counter.builder("ingest.images.duplicates").description("Inputs skipped: same content already published").register(registry);
    bytesCounter = Counter.builder("ingest.bytes.published").baseUnit("bytes").description("Pixel bytes published").register(registry);
  }

  void seen() {
    seen.incrementAndGet();
    seenCounter.increment();
  }

  void published(long pixelBytes) {
    published.incrementAndGet();
    bytes.addAndGet(pixelBytes);
    publishedCounter.increment();
    bytesCounter.increment(pixelBytes);
  }

  void duplicate() {
    duplicates.incrementAndGet();
    duplicateCounter.increment();
  }

  void rejected(RejectReason reason) {
    rejected.incrementAndGet();
    byReason.computeIfAbsent(reason.code(), k -> new AtomicLong()).incrementAndGet();
    Counter.builder("ingest.images.rejected").tag("reason", reason.code())
        .description("Inputs rejected, by reason").register(registry).increment();
  }

  public IngestSummary snapshot(Duration elapsed) {
    Map<String, Long> reasons = new ConcurrentHashMap<>();
    byReason.forEach((k, v) -> reasons.put(k, v.get()));
    return new IngestSummary(seen.get(), published.get(), duplicates.get(), rejected.get(), reasons, bytes.get(), elapsed);
  }
}
