package org.alexkafka.bench.augment;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.alexkafka.augment.AugmentConfig;
import org.alexkafka.augment.ProcessingGuarantee;
import org.alexkafka.augment.AugmentService;
import org.alexkafka.augment.photos.PhotoImages;
import org.alexkafka.augment.photos.PhotoImages.Photo;
import org.alexkafka.augment.topology.StreamsSettings;
import org.alexkafka.broker.EmbeddedKafkaBroker;
import org.alexkafka.schemas.Image;
import org.alexkafka.schemas.LabelEntry;
import org.alexkafka.schemas.Split;
import org.alexkafka.schemas.config.KafkaConnection;
import org.alexkafka.schemas.serde.RecordSerdes;
import org.alexkafka.schemas.topics.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench-augment}: N real 256×256 photos through the augment app on an embedded broker,
 * against a pass-through Streams app that copies the same image bytes (the Kafka-bound limit),
 * alternating, for both processing guarantees. Throughput is measured from the app reaching
 * RUNNING until a read_committed consumer has seen every expected output record.
 */
@Command(name = "bench-augment", mixinStandardHelpOptions = true,
    description = "Augment vs pass-through Streams throughput on an embedded broker with real photos.")
public class AugmentBench implements Callable<Integer> {

  private static final Logger log = LoggerFactory.getLogger(AugmentBench.class);

  @Option(names = "--images", defaultValue = "${env:BENCH_IMAGES:-200}", description = "Images per run (default ${DEFAULT-VALUE}).")
  int images;

  @Option(names = "--variants", defaultValue = "${env:BENCH_VARIANTS:-8}", description = "Training variants per image (default ${DEFAULT-VALUE}).")
  int variants;

  @Option(names = "--rounds", defaultValue = "${env:BENCH_ROUNDS:-3}", description = "Alternating rounds (default ${DEFAULT-VALUE}).")
  int rounds;

  @Option(names = "--data", description = "Folder of class folders of JPEGs (default: testdata/imagenette-mini/train).")
  Path data;

  @Option(names = "--guarantees", split = ",", defaultValue = "at_least_once,exactly_once_v2",
      description = "Processing guarantees to measure (default ${DEFAULT-VALUE}).")
  List<ProcessingGuarantee> guarantees;

  record Result(String app, ProcessingGuarantee guarantee, long records, long bytes, double seconds) {
    double recordsPerSecond() {
      return records / seconds;
    }

    double megabytesPerSecond() {
      return bytes / seconds / 1e6;
    }
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new AugmentBench()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Path root = data != null ? data : PhotoImages.findSharedData().resolve("imagenette-mini").resolve("train");
    List<Photo> photos = PhotoImages.photos(root, Integer.MAX_VALUE);
    log.info("decoding {} photos from {} to 256x256", Math.min(images, photos.size()), root);
    List<Image> set = new ArrayList<>();
    for (int i = 0; i < images; i++) {
      Image img = PhotoImages.image(photos.get(i % photos.size()), Split.TRAIN, 256);
      if (i >= photos.size()) {
        img.setId(img.getId() + "-copy" + (i / photos.size())); // distinct ids: each counts into the stats
      }
      set.add(img);
    }
    List<String> classes = set.stream().map(Image::getLabel).distinct().sorted().toList();
    Path stateRoot = Files.createTempDirectory("bench-augment-");
    Map<String, List<Result>> results = new HashMap<>();
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start()) {
      int run = 0;
      for (int round = 1; round <= rounds; round++) {
        for (ProcessingGuarantee guarantee : guarantees) {
          for (String app : List.of("pass-through", "augment")) {
            Result r = runOnce(broker, app, guarantee, set, classes, stateRoot.resolve("run" + run), run++);
            results.computeIfAbsent(app + "/" + guarantee, k -> new ArrayList<>()).add(r);
            System.out.printf(Locale.ROOT, "round %d %-12s %-15s %6d records %8.1f MB in %6.2f s: %8.1f records/s %7.1f MB/s%n",
                round, app, guarantee, r.records(), r.bytes() / 1e6, r.seconds(), r.recordsPerSecond(), r.megabytesPerSecond());
          }
        }
      }
    }
    String summary = null;
    for (ProcessingGuarantee guarantee : guarantees) {
      List<Result> pass = results.get("pass-through/" + guarantee);
      List<Result> aug = results.get("augment/" + guarantee);
      List<Double> ratios = new ArrayList<>();
      for (int i = 0; i < pass.size(); i++) {
        ratios.add(aug.get(i).megabytesPerSecond() / pass.get(i).megabytesPerSecond());
      }
      double ratio = median(ratios);
      double augMb = median(aug.stream().map(Result::megabytesPerSecond).toList());
      double augSamples = median(aug.stream().map(Result::recordsPerSecond).toList());
      double passMb = median(pass.stream().map(Result::megabytesPerSecond).toList());
      double passRecords = median(pass.stream().map(Result::recordsPerSecond).toList());
      System.out.printf(Locale.ROOT, "%s (median of %d rounds): augment %.1f samples/s %.1f MB/s out (%.1f images/s in); "
              + "pass-through %.1f records/s %.1f MB/s; per-round MB/s ratios %s, median %.3f%n",
          guarantee, rounds, augSamples, augMb, augSamples / variants, passRecords, passMb,
          ratios.stream().map(r -> String.format(Locale.ROOT, "%.3f", r)).toList(), ratio);
      if (summary == null || guarantee == ProcessingGuarantee.EXACTLY_ONCE_V2) {
        summary = String.format(Locale.ROOT, "what=augment-throughput guarantee=%s value=%.1f unit=MB/s samples_per_s=%.1f "
                + "images=%d variants=%d rounds=%d peer=pass-through peer_value=%.1f ratio=%.3f",
            guarantee, augMb, augSamples, images, variants, rounds, passMb, ratio);
      }
    }
    System.out.println(summary);
    return 0;
  }

  private static double median(List<Double> values) {
    List<Double> sorted = values.stream().sorted().toList();
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  private Result runOnce(EmbeddedKafkaBroker broker, String app, ProcessingGuarantee guarantee, List<Image> set, List<String> classes,
      Path stateDir, int run) throws Exception {
    Topics topics = new Topics("bench" + run + ".");
    KafkaConnection connection = new KafkaConnection(broker.bootstrapServers(), topics);
    try (Admin admin = Admin.create(connection.clientProperties())) {
      topics.createAll(admin, (short) 1);
    }
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
        ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.IMAGE_MAX_MESSAGE_BYTES,
        ProducerConfig.BATCH_SIZE_CONFIG, 1024 * 1024, ProducerConfig.LINGER_MS_CONFIG, 5),
        new StringSerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < classes.size(); i++) {
        LabelEntry label = LabelEntry.newBuilder().setClassId(classes.get(i)).setIndex(i).setName(classes.get(i)).build();
        producer.send(new ProducerRecord<>(topics.labels(), label.getClassId(), RecordSerdes.labelEntry().serialize(topics.labels(), label)));
      }
      producer.flush();
      // The pass-through copies each image K times (as many records, and more bytes, than the
      // augment app writes), so both runs last long enough to measure the steady rate.
      int copies = app.equals("augment") ? 1 : variants;
      for (int c = 0; c < copies; c++) {
        for (Image img : set) {
          producer.send(new ProducerRecord<>(topics.images(), img.getId(), RecordSerdes.image().serialize(topics.images(), img)));
        }
      }
      producer.flush();
    }
    AugmentConfig config = AugmentConfig.defaults(connection, stateDir)
        .withApplicationId("bench-" + app + "-" + run).withVariants(variants).withProcessingGuarantee(guarantee);
    long expected = (long) set.size() * variants;
    System.gc();
    if (app.equals("augment")) {
      try (AugmentService service = new AugmentService(config, new SimpleMeterRegistry())) {
        service.start();
        service.awaitRunning(Duration.ofSeconds(60));
        return measure(broker, topics, app, guarantee, expected);
      }
    }
    try (KafkaStreams streams = new KafkaStreams(PassThroughTopology.build(topics), StreamsSettings.of(config))) {
      streams.start();
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (streams.state() != KafkaStreams.State.RUNNING && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      return measure(broker, topics, app, guarantee, expected);
    }
  }

  private static Result measure(EmbeddedKafkaBroker broker, Topics topics, String app, ProcessingGuarantee guarantee, long expected) {
    long start = System.nanoTime();
    Map<String, Object> props = new HashMap<>();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 8 * 1024 * 1024);
    props.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 64 * 1024 * 1024);
    long records = 0, bytes = 0;
    String topic = topics.samplesTrain();
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
      consumer.assign(consumer.partitionsFor(topic).stream().map(p -> new TopicPartition(topic, p.partition())).toList());
      consumer.seekToBeginning(consumer.assignment());
      long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
      while (records < expected && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
          records++;
          bytes += r.serializedValueSize();
        }
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    if (records < expected) {
      throw new IllegalStateException(app + "/" + guarantee + ": only " + records + " of " + expected + " records arrived");
    }
    return new Result(app, guarantee, records, bytes, seconds);
  }
}
