package org.alexkafka.augment.topology;

import org.alexkafka.augment.ProcessingGuarantee;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Properties;
import org.alexkafka.augment.AugmentConfig;
import org.alexkafka.augment.AugmentMetrics;
import org.alexkafka.schemas.Image;
import org.alexkafka.schemas.LabelEntry;
import org.alexkafka.schemas.Rejection;
import org.alexkafka.schemas.Sample;
import org.alexkafka.schemas.Stats;
import org.alexkafka.schemas.config.KafkaConnection;
import org.alexkafka.schemas.serde.RecordSerdes;
import org.alexkafka.schemas.topics.Topics;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;

/** The augment topology in a TopologyTestDriver, with typed test topics. */
final class TopologyFixture implements AutoCloseable {

  final AugmentConfig config;
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  final TopologyTestDriver driver;
  final TestInputTopic<String, byte[]> images;
  final TestInputTopic<String, LabelEntry> labels;
  final TestOutputTopic<String, Sample> train;
  final TestOutputTopic<String, Sample> val;
  final TestOutputTopic<String, Rejection> rejected;
  final TestOutputTopic<String, Stats> stats;

  TopologyFixture(Path stateDir, long seed, int variants, int cropSize) {
    Topics topics = new Topics("t.");
    config = AugmentConfig.defaults(new KafkaConnection("dummy:9092", topics), stateDir)
        .withApplicationId("augment-ttd").withVariants(variants).withCropSize(cropSize)
        .withProcessingGuarantee(ProcessingGuarantee.AT_LEAST_ONCE)
        .withIntervals(Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(30));
    AugmentConfig seeded = config.withSeed(seed);
    Properties props = StreamsSettings.of(seeded);
    driver = new TopologyTestDriver(AugmentTopology.build(seeded, new AugmentMetrics(registry)), props, Instant.ofEpochMilli(0));
    images = driver.createInputTopic(topics.images(), Serdes.String().serializer(), Serdes.ByteArray().serializer());
    labels = driver.createInputTopic(topics.labels(), Serdes.String().serializer(), RecordSerdes.labelEntry());
    train = driver.createOutputTopic(topics.samplesTrain(), Serdes.String().deserializer(), RecordSerdes.sample());
    val = driver.createOutputTopic(topics.samplesVal(), Serdes.String().deserializer(), RecordSerdes.sample());
    rejected = driver.createOutputTopic(topics.imagesRejected(), Serdes.String().deserializer(), RecordSerdes.rejection());
    stats = driver.createOutputTopic(topics.stats(), Serdes.String().deserializer(), RecordSerdes.stats());
  }

  void label(String classId, int index) {
    labels.pipeInput(classId, org.alexkafka.augment.testing.TestImages.label(classId, index));
  }

  void image(Image image) {
    images.pipeInput(image.getId(), RecordSerdes.image().serialize("t.images", image));
  }

  double counter(String name, String tag, String value) {
    var c = registry.find(name).tag(tag, value).counter();
    return c == null ? 0 : c.count();
  }

  @Override
  public void close() {
    driver.close();
  }
}
