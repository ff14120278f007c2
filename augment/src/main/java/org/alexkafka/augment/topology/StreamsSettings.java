package org.alexkafka.augment.topology;

import java.util.Properties;
import org.alexkafka.augment.AugmentConfig;
import org.alexkafka.schemas.topics.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.streams.StreamsConfig;

/** The Kafka Streams properties of the augment app. */
public final class StreamsSettings {

  private StreamsSettings() {}

  public static Properties of(AugmentConfig config) {
    Properties p = new Properties();
    p.putAll(config.kafka().clientProperties());
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, config.applicationId());
    p.put(StreamsConfig.STATE_DIR_CONFIG, config.stateDir().toString());
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, config.threads());
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, config.processingGuarantee().id());
    if (!config.instanceId().isEmpty()) {
      p.put(StreamsConfig.consumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG), config.instanceId());
    }
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, config.commitInterval().toMillis());
    // The per-task statistics sums (1.5 MB at 256x256) live in the cache between commits.
    p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 64L * 1024 * 1024);
    // A poison record on a global table (labels, stats) is dead-lettered by the handler; images
    // are read as bytes and dead-lettered by the topology itself.
    p.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterDeserializationHandler.class);
    p.put(DeadLetterDeserializationHandler.REJECTED_TOPIC_CONFIG, config.kafka().topics().imagesRejected());
    // A record that makes a processor throw despite the checks is dead-lettered too and skipped,
    // instead of failing the thread (whose replacement would read it again, forever).
    p.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterProcessingExceptionHandler.class);
    // Statistics records, their changelog and repartition records are ~1-2 MB: raise every limit.
    p.put(StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG), Topics.STATS_MAX_MESSAGE_BYTES);
    p.put(StreamsConfig.topicPrefix(TopicConfig.MAX_MESSAGE_BYTES_CONFIG), String.valueOf(Topics.STATS_MAX_MESSAGE_BYTES));
    // Samples are ~150 KB each: batch several per request.
    p.put(StreamsConfig.producerPrefix(ProducerConfig.BATCH_SIZE_CONFIG), 1024 * 1024);
    p.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 5);
    p.put(StreamsConfig.producerPrefix(ProducerConfig.BUFFER_MEMORY_CONFIG), 128L * 1024 * 1024);
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG), 8 * 1024 * 1024);
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_POLL_RECORDS_CONFIG), 100);
    return p;
  }
}
