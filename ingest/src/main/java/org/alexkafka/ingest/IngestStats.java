package org.alexkafka.ingest;

import org.alexkafka.schemas.RejectReason;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.BaseUnits;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The service's counters, kept twice: as exact totals for {@link IngestSummary} and as Micrometer
 * counters, which Prometheus shows as {@code ingest_images_seen_total}, {@code ingest_images_published_total},
 * {@code ingest_images_duplicates_total}, {@code ingest_images_rejected_total{reason}} and
 * {@code ingest_pixels_published_bytes_total} (the unit once, before {@code _total}).
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
    bytesCounter = Counter.builder("ingest.pixels.published").baseUnit(BaseUnits.BYTES)
        .description("Bytes of pixels published to the images topic").register(registry);
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
