package org.alexkafka.augment.topology;

import java.util.Map;
import org.alexkafka.schemas.Rejection;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backstop behind the topology's own checks: a record (or punctuation) that makes a processor
 * throw becomes a {@code processing-error} {@link Rejection} on {@code images.rejected}, naming
 * the processor and the source topic, partition and offset, with the source record's bytes, and
 * processing continues with the next record. Without it Streams' default fails the thread, which
 * the service replaces, which reads the same record again: a crash loop on one poison record.
 * When the rejection cannot be written the thread fails instead: nothing is skipped without a
 * record of it.
 */
public final class DeadLetterProcessingExceptionHandler implements ProcessingExceptionHandler {

  private static final Logger log = LoggerFactory.getLogger(DeadLetterProcessingExceptionHandler.class);

  private final DeadLetterWriter writer = new DeadLetterWriter();

  @Override
  public void configure(Map<String, ?> configs) {
    writer.configure(configs, "augment-processing-dead-letters-");
  }

  @Override
  public ProcessingHandlerResponse handle(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
    String source = context.topic() == null
        ? "task " + context.taskId() + " (punctuation)"
        : context.topic() + "-" + context.partition() + "@" + context.offset();
    String detail = "processor " + context.processorNodeId() + " (task " + context.taskId() + ") failed on "
        + (record == null ? "a punctuation" : "a record of " + source) + ": " + exception;
    log.warn("rejected {} ({}): {}", source, Rejections.PROCESSING_ERROR, detail, exception);
    Rejection rejection = Rejections.of(source, Rejections.PROCESSING_ERROR, detail, null, context.sourceRawValue(),
        System.currentTimeMillis());
    return writer.write(rejection) ? ProcessingHandlerResponse.CONTINUE : ProcessingHandlerResponse.FAIL;
  }
}
