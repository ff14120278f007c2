package org.alexkafka.ingest;

import java.time.Instant;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.alexkafka.ingest.decode.DecodeException;
import org.alexkafka.ingest.decode.ImagePreparer;
import org.alexkafka.ingest.decode.PreparedImage;
import org.alexkafka.ingest.publish.ContentId;
import org.alexkafka.ingest.publish.IngestPublisher;
import org.alexkafka.ingest.publish.LabelRegistry;
import org.alexkafka.ingest.publish.UnknownLabelException;
import org.alexkafka.schemas.Image;
import org.alexkafka.schemas.Rejection;
import org.alexkafka.schemas.Split;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One input to one outcome, whatever the source: hash, skip if already published, check the class,
 * decode and prepare, register the class (acknowledged) and publish. Bad input becomes a Rejection
 * record and a log line, never an exception. Thread-safe.
 */
public final class Ingestor {

  private static final Logger log = LoggerFactory.getLogger(Ingestor.class);
  public static final String STAGE = "ingest";

  private final ImagePreparer preparer;
  private final LabelRegistry labels;
  private final IngestPublisher publisher;
  /** Ids published or on their way: recovered from the images topic at start. */
  private final Set<String> ids;
  private final IngestStats stats;

  public Ingestor(ImagePreparer preparer, LabelRegistry labels, IngestPublisher publisher, Set<String> ids, IngestStats stats) {
    this.preparer = preparer;
    this.labels = labels;
    this.publisher = publisher;
    this.ids = ids;
    this.stats = stats;
  }

  public IngestResult ingest(byte[] bytes, String label, Split split, String source) {
    stats.seen();
    String id = ContentId.of(bytes);
    if (!ids.add(id)) {
      stats.duplicate();
      log.debug("duplicate {} ({}): already published", source, id);
      return IngestResult.duplicate(id);
    }
    try {
      labels.check(label);
      PreparedImage prepared = preparer.prepare(bytes);
      labels.indexOf(label); // registers (and waits for the ack of) a new class before its first image
      Image image = Image.newBuilder().setId(id).setLabel(label).setSplit(split).setSource(source)
          .setOriginalWidth(prepared.originalWidth()).setOriginalHeight(prepared.originalHeight())
          .setWidth(prepared.size()).setHeight(prepared.size())
          .setPixels(java.nio.ByteBuffer.wrap(prepared.rgb())).setIngestedAt(Instant.now()).build();
      CompletableFuture<Void> acked = publisher.sendImage(image).handle((meta, error) -> {
        if (error != null) {
          ids.remove(id); // not on Kafka: a later scan may try again
          reject(source, id, RejectReason.PUBLISH_FAILED, "Kafka did not take the image: " + error);
          throw new IllegalStateException("publishing " + source + " failed: " + error.getMessage(), error);
        }
        stats.published(prepared.rgb().length);
        return null;
      });
      return new IngestResult(IngestResult.Status.PUBLISHED, id, null, null, acked);
    } catch (DecodeException e) {
      ids.remove(id);
      return reject(source, id, e.reason(), e.getMessage());
    } catch (UnknownLabelException e) {
      ids.remove(id);
      return reject(source, id, RejectReason.UNKNOWN_LABEL, e.getMessage());
    } catch (ExecutionException e) {
      ids.remove(id);
      return reject(source, id, RejectReason.PUBLISH_FAILED, "could not register class '" + label + "': " + e.getCause());
    } catch (InterruptedException e) {
      ids.remove(id);
      Thread.currentThread().interrupt();
      return reject(source, id, RejectReason.PUBLISH_FAILED, "interrupted while registering class '" + label + "'");
    } catch (org.apache.kafka.common.KafkaException e) {
      ids.remove(id);
      return reject(source, id, RejectReason.PUBLISH_FAILED, "Kafka refused the image: " + e);
    } catch (RuntimeException e) {
      ids.remove(id);
      log.error("unexpected failure on {}", source, e);
      return reject(source, id, RejectReason.INTERNAL_ERROR, e.toString());
    }
  }

  /** An input rejected before its bytes could be read (unreadable file, no class folder, ...). */
  public IngestResult rejectUnread(String source, RejectReason reason, String detail) {
    stats.seen();
    return reject(source, null, reason, detail);
  }

  private IngestResult reject(String source, String id, RejectReason reason, String detail) {
    stats.rejected(reason);
    log.warn("rejected {} [{}]: {}", source, reason.code(), detail);
    Rejection rejection = Rejection.newBuilder().setStage(STAGE).setSource(source).setReason(reason.code())
        .setDetail(detail == null ? "" : detail).setImageId(id).setRejectedAt(Instant.now()).build();
    publisher.sendRejection(rejection).whenComplete((meta, error) -> {
      if (error != null) {
        log.error("could not record the rejection of {} on Kafka: {}", source, error.toString());
      }
    });
    return IngestResult.rejected(id, reason, detail);
  }
}
