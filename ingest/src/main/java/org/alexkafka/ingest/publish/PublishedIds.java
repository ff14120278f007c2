package org.alexkafka.ingest.publish;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.alexkafka.schemas.ImageRef;
import org.alexkafka.schemas.serde.RecordSerdes;
import org.alexkafka.schemas.topics.Topics;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ids ingest has already published, recovered at start-up without reading the images: first
 * the compacted {@code images.ids} topic (one small {@link ImageRef} per image, written once the
 * image is acknowledged), then, per partition of {@code images}, only the records after the last
 * offset recorded there. Those are images whose ref a crash or an outage kept off
 * {@code images.ids} (on a topic from before {@code images.ids} existed: all of them); they are
 * returned as {@link Recovery#missing()} so the caller can record them.
 *
 * <p>An image below the last recorded offset of its partition whose ref is missing (its ref failed
 * while a later one succeeded, or another ingest instance wrote it and crashed) is not found: the
 * worst that does is publish it once more.
 */
public final class PublishedIds {

  private static final Logger log = LoggerFactory.getLogger(PublishedIds.class);

  private PublishedIds() {}

  /**
   * What recovery found and what it read to find it. {@code images} holds each published id and where
   * its image is; the service goes on using it, so it also holds what is published after start-up.
   */
  public record Recovery(KnownImages images, long refsRead, long imagesRead, List<ImageRef> missing) {

    public Set<String> ids() {
      return images.ids();
    }
  }

  public static Recovery recover(Map<String, Object> clientProps, Topics topics, Duration timeout) {
    KnownImages ids = new KnownImages();
    Map<Integer, Long> lastRecorded = new HashMap<>();
    long refs = TopicReader.readToEnd(clientProps, topics.imagesIds(), new StringDeserializer(), new ByteArrayDeserializer(),
        Map.of(), timeout, r -> {
          if (r.value() == null) {
            return; // a tombstone: not written by ingest
          }
          try {
            ImageRef ref = RecordSerdes.imageRef().deserialize(r.topic(), r.value());
            ids.recovered(ref.getImageId(), new ImageLocation(ref.getPartition(), ref.getOffset()));
            lastRecorded.merge(ref.getPartition(), ref.getOffset(), Math::max);
          } catch (SerializationException e) {
            log.error("skipped unreadable record {}-{}@{} of {}: {}", r.topic(), r.partition(), r.offset(), topics.imagesIds(),
                e.getMessage());
          }
        });
    Map<Integer, Long> start = new HashMap<>();
    lastRecorded.forEach((partition, offset) -> start.put(partition, offset + 1));
    List<ImageRef> missing = new ArrayList<>();
    Deserializer<Void> ignoreValue = (topic, data) -> null; // only the keys matter here
    long images = TopicReader.readToEnd(clientProps, topics.images(), new StringDeserializer(), ignoreValue, start, timeout, r -> {
      if (r.key() != null && ids.recovered(r.key(), new ImageLocation(r.partition(), r.offset()))) {
        missing.add(new ImageRef(r.key(), r.partition(), r.offset()));
      }
    });
    return new Recovery(ids, refs, images, missing);
  }
}
