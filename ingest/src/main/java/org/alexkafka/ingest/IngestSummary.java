package org.alexkafka.ingest;

import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a scan (or the service so far) did. {@code seen = published + duplicates + rejected}.
 *
 * @param rejectedByReason reason code (e.g. "corrupt") to count
 */
public record IngestSummary(long seen, long published, long duplicates, long rejected,
    Map<String, Long> rejectedByReason, long bytesPublished, Duration elapsed) {

  public IngestSummary {
    rejectedByReason = Map.copyOf(rejectedByReason);
  }

  /** A few lines for people: totals, then rejections by reason. */
  public String describe() {
    StringBuilder sb = new StringBuilder();
    double secs = Math.max(elapsed.toMillis(), 1) / 1000.0;
    sb.append(String.format("ingest summary: seen %d, published %d, duplicates skipped %d, rejected %d in %.1f s (%.1f images/s, %.1f MB)",
        seen, published, duplicates, rejected, secs, published / secs, bytesPublished / 1e6));
    new TreeMap<>(rejectedByReason).forEach((reason, n) -> sb.append(String.format("%n  rejected %-14s %d", reason, n)));
    return sb.toString();
  }

  /** This summary minus an earlier one of the same counters: what happened in between. */
  public IngestSummary minus(IngestSummary before, Duration elapsed) {
    Map<String, Long> reasons = new TreeMap<>(rejectedByReason);
    before.rejectedByReason.forEach((k, v) -> reasons.merge(k, -v, Long::sum));
    reasons.values().removeIf(v -> v == 0);
    return new IngestSummary(seen - before.seen, published - before.published, duplicates - before.duplicates,
        rejected - before.rejected, reasons, bytesPublished - before.bytesPublished, elapsed);
  }
}
