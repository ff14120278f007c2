package org.alexkafka.augment.topology;

import java.util.Map;
import org.alexkafka.schemas.Rejection;
import org.alexkafka.schemas.serde.UnknownSchemaException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dead-letters the records Kafka Streams itself cannot deserialize: those of the global tables
 * (labels) and of the statistics repartition topic; the images topic is read as bytes and its
 * poison records are dead-lettered by {@link AugmentProcessor}. Each goes to
 * {@code images.rejected} as a {@code poison-record} {@link Rejection} ({@code unknown-schema}
 * when it carries a schema fingerprint this version does not know, named in the detail) naming
 * its topic, partition and offset, with its bytes, before processing continues. When the rejection
 * cannot be written the app stops instead: nothing is skipped without a record of it.
 * See {@link DeadLetterWriter} for how it is written.
 */
public final class DeadLetterDeserializationHandler implements DeserializationExceptionHandler {

  /** Streams config key carrying the rejected topic's name to the handler. */
  public static final String REJECTED_TOPIC_CONFIG = DeadLetterWriter.REJECTED_TOPIC_CONFIG;

  private static final Logger log = LoggerFactory.getLogger(DeadLetterDeserializationHandler.class);

  private final DeadLetterWriter writer = new DeadLetterWriter();

  @Override
  public void configure(Map<String, ?> configs) {
    writer.configure(configs, "augment-dead-letters-");
  }

  @Override
  public DeserializationHandlerResponse handle(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record,
      Exception exception) {
    String source = record.topic() + "-" + record.partition() + "@" + record.offset();
    String reason = Rejections.undecodable(exception);
    String detail = "cannot deserialize a record of " + record.topic() + ": " + exception.getMessage();
    log.warn("rejected {} ({}): {}", source, reason, detail);
    Rejection rejection = Rejections.of(source, reason, detail, null, record.value(), System.currentTimeMillis());
    return writer.write(rejection) ? DeserializationHandlerResponse.CONTINUE : DeserializationHandlerResponse.FAIL;
  }
}
