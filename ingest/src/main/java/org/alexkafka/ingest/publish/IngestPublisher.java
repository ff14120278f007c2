package org.alexkafka.ingest.publish;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.alexkafka.schemas.Image;
import org.alexkafka.schemas.ImageRef;
import org.alexkafka.schemas.LabelEntry;
import org.alexkafka.schemas.Rejection;
import org.alexkafka.schemas.serde.RecordSerdes;
import org.alexkafka.schemas.topics.Topics;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * The service's producers: images, rejections and labels on one, serialised as Avro; on a second,
 * small one, an {@link ImageRef} on {@code images.ids} for each image once it is acknowledged (a
 * producer must not block in its own callback, so the refs cannot share the images' buffer).
 */
public final class IngestPublisher implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(IngestPublisher.class);

  private final Producer<String, byte[]> producer;
  private final Producer<String, byte[]> refProducer;
  private final Topics topics;

  public IngestPublisher(Map<String, Object> producerProps, Map<String, Object> refProducerProps, Topics topics) {
    this.producer = new KafkaProducer<>(producerProps);
    this.refProducer = new KafkaProducer<>(refProducerProps);
    this.topics = topics;
  }

  /** Completes when the image is acknowledged; its ref follows on {@code images.ids}. */
  public CompletableFuture<RecordMetadata> sendImage(Image image) {
    byte[] value = RecordSerdes.image().serialize(topics.images(), image);
    CompletableFuture<RecordMetadata> acked = send(new ProducerRecord<>(topics.images(), image.getId(), value));
    acked.thenAccept(meta -> sendRef(new ImageRef(image.getId(), meta.partition(), meta.offset())));
    return acked;
  }

  /** Records where an image is; a failure only costs a slower start-up (see PublishedIds). */
  public CompletableFuture<RecordMetadata> sendRef(ImageRef ref) {
    byte[] value = RecordSerdes.imageRef().serialize(topics.imagesIds(), ref);
    CompletableFuture<RecordMetadata> done = new CompletableFuture<>();
    refProducer.send(new ProducerRecord<>(topics.imagesIds(), ref.getImageId(), value), (metadata, error) -> {
      if (error != null) {
        log.warn("could not record {} at {}-{}@{} on {}: {}", ref.getImageId(), topics.images(), ref.getPartition(),
            ref.getOffset(), topics.imagesIds(), error.toString());
        done.completeExceptionally(error);
      } else {
        done.complete(metadata);
      }
    });
    return done;
  }

  public CompletableFuture<RecordMetadata> sendRejection(Rejection rejection) {
    byte[] value = RecordSerdes.rejection().serialize(topics.imagesRejected(), rejection);
    return send(new ProducerRecord<>(topics.imagesRejected(), rejection.getSource(), value));
  }

  /** Publishes a label and waits for the acknowledgement. */
  public void sendLabelAndWait(LabelEntry entry) throws ExecutionException, InterruptedException {
    byte[] value = RecordSerdes.labelEntry().serialize(topics.labels(), entry);
    send(new ProducerRecord<>(topics.labels(), entry.getClassId(), value)).get();
  }

  private CompletableFuture<RecordMetadata> send(ProducerRecord<String, byte[]> record) {
    CompletableFuture<RecordMetadata> done = new CompletableFuture<>();
    producer.send(record, (metadata, error) -> {
      if (error != null) {
        done.completeExceptionally(error);
      } else {
        done.complete(metadata);
      }
    });
    return done;
  }

  public void flush() {
    producer.flush(); // runs the images' callbacks, which send their refs
    refProducer.flush();
  }

  @Override
  public void close() {
    producer.close();
    refProducer.close();
  }
}
