package org.alexkafka.ingest;

import org.alexkafka.schemas.RejectReason;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.alexkafka.ingest.decode.DecodeException;
import org.alexkafka.ingest.decode.ImagePreparer;
import org.alexkafka.ingest.decode.PreparedImage;
import org.alexkafka.ingest.publish.ContentId;
import org.alexkafka.ingest.publish.IngestPublisher;
import org.alexkafka.ingest.publish.InvalidLabelException;
import org.alexkafka.ingest.publish.KnownImages;
import org.alexkafka.ingest.publish.LabelRegistry;
import org.alexkafka.ingest.publish.PublishedLabelReader;
import org.alexkafka.ingest.publish.UnknownLabelException;
import org.alexkafka.schemas.Image;
import org.alexkafka.schemas.Rejection;
import org.alexkafka.schemas.Split;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One input to one outcome, whatever the source: hash, check the class, skip if already published
 * (or refuse if it was published under another class), decode and prepare, register the class
 * (acknowledged) and publish. Bad input becomes a Rejection record and a log line, never an
 * exception. Thread-safe.
 */
public final class Ingestor {

  private static final Logger log = LoggerFactory.getLogger(Ingestor.class);
  public static final String STAGE = "ingest";

  /** For a picture published by an earlier run, whether to read its first label back from Kafka. */
  public enum EarlierLabels {
    /**
     * Compare with labels this run knows only. For folder scans: a restart sees every file again,
     * and reading each one's image back would read the whole images topic.
     */
    KNOWN_ONLY,
    /** Read the earlier image's label from the images topic when this run does not know it (uploads). */
    READ_BACK
  }

  private final ImagePreparer preparer;
  private final LabelRegistry labels;
  private final IngestPublisher publisher;
  /** Ids published or on their way, with their first label: recovered from the topics at start. */
  private final KnownImages known;
  private final PublishedLabelReader earlierLabels;
  private final IngestStats stats;

  public Ingestor(ImagePreparer preparer, LabelRegistry labels, IngestPublisher publisher, KnownImages known,
      PublishedLabelReader earlierLabels, IngestStats stats) {
    this.preparer = preparer;
    this.labels = labels;
    this.publisher = publisher;
    this.known = known;
    this.earlierLabels = earlierLabels;
    this.stats = stats;
  }

  public IngestResult ingest(byte[] bytes, String label, Split split, String source) {
    return ingest(bytes, label, split, source, EarlierLabels.KNOWN_ONLY);
  }

  public IngestResult ingest(byte[] bytes, String label, Split split, String source, EarlierLabels earlier) {
    stats.seen();
    String id = ContentId.of(bytes);
    try {
      labels.check(label); // before the duplicate check: a bad class id is refused whatever the picture
    } catch (InvalidLabelException e) {
      return reject(source, id, RejectReason.INVALID_LABEL, e.getMessage());
    } catch (UnknownLabelException e) {
      return reject(source, id, RejectReason.UNKNOWN_LABEL, e.getMessage());
    }
    Optional<KnownImages.Prior> prior = known.claim(id, label);
    if (prior.isPresent()) {
      return duplicateOrConflict(id, label, source, prior.get(), earlier);
    }
    try {
      PreparedImage prepared = preparer.prepare(bytes);
      labels.indexOf(label); // registers (and waits for the ack of) a new class before its first image
      Image image = Image.newBuilder().setId(id).setLabel(label).setSplit(split).setSource(source)
          .setOriginalWidth(prepared.originalWidth()).setOriginalHeight(prepared.originalHeight())
          .setWidth(prepared.size()).setHeight(prepared.size())
          .setPixels(java.nio.ByteBuffer.wrap(prepared.rgb())).setIngestedAt(Instant.now()).build();
      CompletableFuture<Void> acked = publisher.sendImage(image).handle((meta, error) -> {
        if (error != null) {
          known.forget(id); // not on Kafka: a later scan may try again
          reject(source, id, RejectReason.PUBLISH_FAILED, "Kafka did not take the image: " + error);
          throw new IllegalStateException("publishing " + source + " failed: " + error.getMessage(), error);
        }
        stats.published(prepared.rgb().length);
        return null;
      });
      return IngestResult.published(id, acked);
    } catch (DecodeException e) {
      known.forget(id);
      return reject(source, id, e.reason(), e.getMessage());
    } catch (InvalidLabelException e) {
      known.forget(id);
      return reject(source, id, RejectReason.INVALID_LABEL, e.getMessage());
    } catch (UnknownLabelException e) {
      known.forget(id);
      return reject(source, id, RejectReason.UNKNOWN_LABEL, e.getMessage());
    } catch (ExecutionException e) {
      known.forget(id);
      return reject(source, id, RejectReason.PUBLISH_FAILED, "could not register class '" + label + "': " + e.getCause());
    } catch (InterruptedException e) {
      known.forget(id);
      Thread.currentThread().interrupt();
      return reject(source, id, RejectReason.PUBLISH_FAILED, "interrupted while registering class '" + label + "'");
    } catch (org.apache.kafka.common.KafkaException e) {
      known.forget(id);
      return reject(source, id, RejectReason.PUBLISH_FAILED, "Kafka refused the image: " + e);
    } catch (RuntimeException e) {
      known.forget(id);
      log.error("unexpected failure on {}", source, e);
      return reject(source, id, RejectReason.INTERNAL_ERROR, e.toString());
    }
  }

  /**
   * The same picture again: under the same class it is a duplicate; under another one it is refused
   * and recorded (a picture has one class, the first one stays), so that a mislabelled copy is seen.
   */
  private IngestResult duplicateOrConflict(String id, String label, String source, KnownImages.Prior prior,
      EarlierLabels earlier) {
    String first = prior.label();
    if (first == null && earlier == EarlierLabels.READ_BACK && earlierLabels != null) {
      first = earlierLabels.labelAt(prior.location()).orElse(null);
      if (first != null) {
        known.learn(id, first);
      }
    }
    if (first == null || first.equals(label)) {
      stats.duplicate();
      log.debug("duplicate {} ({}): already published{}", source, id, first == null ? " by an earlier run" : "");
      return IngestResult.duplicate(id);
    }
    return reject(source, id, RejectReason.LABEL_CONFLICT, "image " + id + " is already published as class '" + first
        + "'; not published again as class '" + label + "' (the first class is kept)").withKeptLabel(first);
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
