package org.alexkafka.ingest;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.alexkafka.ingest.publish.TopicReader;
import org.alexkafka.schemas.Image;
import org.alexkafka.schemas.LabelEntry;
import org.alexkafka.schemas.Rejection;
import org.alexkafka.schemas.serde.RecordSerdes;
import org.alexkafka.schemas.topics.Topics;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Everything on the ingest topics right now, read back with a plain consumer. */
record TopicContents(List<Image> images, List<Rejection> rejections, Map<String, LabelEntry> labels, int labelRecords) {

  static TopicContents read(String bootstrap, Topics topics) {
    Map<String, Object> props = Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    Duration timeout = Duration.ofSeconds(60);
    List<Image> images = new ArrayList<>();
    TopicReader.readToEnd(props, topics.images(), new StringDeserializer(), RecordSerdes.image(), timeout,
        (k, v) -> images.add(v));
    List<Rejection> rejections = new ArrayList<>();
    TopicReader.readToEnd(props, topics.imagesRejected(), new StringDeserializer(), RecordSerdes.rejection(), timeout,
        (k, v) -> rejections.add(v));
    Map<String, LabelEntry> labels = new LinkedHashMap<>();
    int[] labelRecords = {0};
    TopicReader.readToEnd(props, topics.labels(), new StringDeserializer(), RecordSerdes.labelEntry(), timeout,
        (k, v) -> {
          labels.put(k, v);
          labelRecords[0]++;
        });
    return new TopicContents(images, rejections, labels, labelRecords[0]);
  }
}
