package org.alexkafka.ingest;

import org.alexkafka.schemas.RejectReason;
import java.util.concurrent.CompletableFuture;

/**
 * What became of one input. For PUBLISHED, {@code acked} completes when Kafka has the record
 * (exceptionally if it never gets it); for the others it is already complete. {@code keptLabel} is
 * the class the picture was first published under, for a LABEL_CONFLICT rejection; null otherwise.
 */
public record IngestResult(Status status, String id, RejectReason reason, String detail, CompletableFuture<Void> acked,
    String keptLabel) {

  public enum Status { PUBLISHED, DUPLICATE, REJECTED }

  static IngestResult published(String id, CompletableFuture<Void> acked) {
    return new IngestResult(Status.PUBLISHED, id, null, null, acked, null);
  }

  static IngestResult duplicate(String id) {
    return new IngestResult(Status.DUPLICATE, id, null, "already published", CompletableFuture.completedFuture(null), null);
  }

  static IngestResult rejected(String id, RejectReason reason, String detail) {
    return new IngestResult(Status.REJECTED, id, reason, detail, CompletableFuture.completedFuture(null), null);
  }

  IngestResult withKeptLabel(String label) {
    return new IngestResult(status, id, reason, detail, acked, label);
  }
}
