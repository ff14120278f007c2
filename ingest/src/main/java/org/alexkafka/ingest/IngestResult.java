package org.alexkafka.ingest;

import java.util.concurrent.CompletableFuture;

/**
 * What became of one input. For PUBLISHED, {@code acked} completes when Kafka has the record
 * (exceptionally if it never gets it); for the others it is already complete.
 */
public record IngestResult(Status status, String id, RejectReason reason, String detail, CompletableFuture<Void> acked) {

  public enum Status { PUBLISHED, DUPLICATE, REJECTED }

  static IngestResult duplicate(String id) {
    return new IngestResult(Status.DUPLICATE, id, null, "already published", CompletableFuture.completedFuture(null));
  }

  static IngestResult rejected(String id, RejectReason reason, String detail) {
    return new IngestResult(Status.REJECTED, id, reason, detail, CompletableFuture.completedFuture(null));
  }
}
