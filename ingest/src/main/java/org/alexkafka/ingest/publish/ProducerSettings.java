package org.alexkafka.ingest.publish;

import java.util.HashMap;
import java.util.Map;
import org.alexkafka.schemas.topics.Topics;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Producer settings for ~200 KB image records, on top of the connection's client properties
 * ({@code KafkaConnection.clientProperties()}: bootstrap.servers and the security settings of
 * {@code --kafka-config} / {@code KAFKA_CLIENT_*}), which pass through unchanged. The patient
 * timeouts below ride out a broker that is down; a refused login is not retried (Kafka reports an
 * authentication failure to the send at once), so wrong credentials stop the service promptly.
 */
public final class ProducerSettings {

  /** Five 256x256x3 records per partition batch: fewer, fuller requests without big latency. */
  public static final int BATCH_BYTES = 1024 * 1024;

  private ProducerSettings() {}

  public static Map<String, Object> forImages(Map<String, Object> clientProps, String compression) {
    Map<String, Object> p = new HashMap<>(clientProps);
    // Exactly-once per partition across retries: a broker hiccup never writes a record twice.
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, BATCH_BYTES);
    p.put(ProducerConfig.LINGER_MS_CONFIG, 10);
    p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 64L * 1024 * 1024);
    // A record may be up to the images topic's max.message.bytes (scaled-up set-ups).
    p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.IMAGE_MAX_MESSAGE_BYTES);
    // Measured by bench-decode on the 100 imagenet-val-100 records: lz4 keeps 89.5% of the bytes
    // (decoded photo pixels are noise to a byte-level compressor) at ~250-400 MB/s of one core,
    // i.e. ~10-15% of a core at 200 images/s to save a tenth of the bytes: not worth it, "none".
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, compression);
    // Kafka down: keep retrying for 10 minutes before giving a record up (it is then counted as
    // publish-failed and can be ingested again; the idempotent producer never duplicates).
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 600_000);
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 600_000);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    return p;
  }

  /** For the small {@code images.ids} refs: idempotent, acknowledged by all replicas, patient like the images. */
  public static Map<String, Object> forRefs(Map<String, Object> clientProps) {
    Map<String, Object> p = new HashMap<>(clientProps);
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, 20);
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 600_000);
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 600_000);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    return p;
  }
}
