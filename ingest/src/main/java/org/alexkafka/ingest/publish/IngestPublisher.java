package org.alexkafka.ingest.publish;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.alexkafka.schemas.Image;
import org.alexkafka.schemas.LabelEntry;
import org.alexkafka.schemas.Rejection;
import org.alexkafka.schemas.serde.RecordSerdes;
import org.alexkafka.schemas.topics.Topics;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/** The one producer of the service: images, rejections and labels, serialised as Avro. */
public final class IngestPublisher implements AutoCloseable {

  private final Producer<String, byte[]> producer;
  private final Topics topics;

  public IngestPublisher(Map<String, Object> producerProps, Topics topics) {
    this.producer = new KafkaProducer<>(producerProps);
    this.topics = topics;
  }

  public CompletableFuture<RecordMetadata> sendImage(Image image) {
    byte[] value = RecordSerdes.image().serialize(topics.images(), image);
    return send(new ProducerRecord<>(topics.images(), image.getId(), value));
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
    producer.flush();
  }

  @Override
  public void close() {
    producer.close();
  }
}
