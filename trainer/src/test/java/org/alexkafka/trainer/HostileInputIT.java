package org.alexkafka.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.alexkafka.schemas.Sample;
import org.alexkafka.schemas.Stats;
import org.alexkafka.schemas.config.KafkaConnection;
import org.alexkafka.schemas.serde.RecordSerdes;
import org.alexkafka.schemas.topics.Topics;
import org.alexkafka.trainer.data.BatchAssembler;
import org.alexkafka.trainer.data.BlockReader;
import org.alexkafka.trainer.data.MeanImage;
import org.alexkafka.trainer.data.ShuffledEpoch;
import org.alexkafka.trainer.data.StatsReader;
import org.alexkafka.trainer.data.TrainSample;
import org.alexkafka.trainer.engine.Batch;
import org.alexkafka.trainer.engine.Engine;
import org.alexkafka.trainer.engine.Tensors;
import org.alexkafka.trainer.eval.EvalResult;
import org.alexkafka.trainer.eval.Evaluator;
import org.alexkafka.trainer.model.AlexNetSpec;
import org.alexkafka.trainer.support.TestData;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Hostile records on every topic the trainer reads, on the real broker: garbage bytes, truncated
 * Avro, an unknown schema fingerprint, a record from a newer (compatible) schema, a record claiming
 * a 2 GB field, a tombstone, and well-formed samples the trainer cannot use (class index out of
 * range, wrong pixel count, wrong crop or image size, non-finite lighting, impossible view
 * numbers), between good records and augment's transaction markers. Each is one counted skip,
 * logged with topic, partition and offset; training and evaluation go on over exactly the good
 * records.
 */
class HostileInputIT {

  private static final int CLASSES = 10;
  private static final int IMAGE = 8;
  private static final int CROP = 4;

  private final List<KafkaConsumer<String, Sample>> consumers = new ArrayList<>();
  private final Map<Class<?>, ListAppender<ILoggingEvent>> logs = new HashMap<>();

  @BeforeEach
  void captureLogs() {
    for (Class<?> c : List.of(BlockReader.class, StatsReader.class, org.alexkafka.trainer.data.EpochReader.class)) {
      ListAppender<ILoggingEvent> appender = new ListAppender<>();
      appender.start();
      ((Logger) LoggerFactory.getLogger(c)).addAppender(appender);
      logs.put(c, appender);
    }
  }

  @AfterEach
  void close() {
    consumers.forEach(KafkaConsumer::close);
    logs.forEach((c, a) -> ((Logger) LoggerFactory.getLogger(c)).detachAppender(a));
  }

  /** Where a hostile record landed. */
  private record Placed(String what, int partition, long offset) {
  }

  // ---------------------------------------------------------------- the bytes of hostile records

  private static byte[] bytes(Sample s) {
    return RecordSerdes.sample().serialize("t", s);
  }

  private static byte[] truncated(byte[] whole) {
    return Arrays.copyOf(whole, whole.length / 2);
  }

  private static byte[] unknownFingerprint(byte[] whole) {
    byte[] b = whole.clone();
    b[6] ^= 0x21;
    return b;
  }

  /** The record as written with its schema plus one more field: a compatible schema from the future. */
  private static byte[] fromTheFuture(SpecificRecord record) {
    Schema current = record.getSchema();
    List<Schema.Field> fields = new ArrayList<>();
    for (Schema.Field f : current.getFields()) {
      fields.add(new Schema.Field(f, f.schema()));
    }
    fields.add(new Schema.Field("addedLater", Schema.create(Schema.Type.STRING), "a field of a later version", ""));
    Schema future = Schema.createRecord(current.getName(), current.getDoc(), current.getNamespace(), false, fields);
    GenericRecord r = new GenericData.Record(future);
    for (Schema.Field f : current.getFields()) {
      Object v = record.get(f.pos());
      r.put(f.name(), v instanceof Instant i ? i.toEpochMilli() : v);
    }
    r.put("addedLater", "hello from v9");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      new BinaryMessageEncoder<GenericRecord>(GenericData.get(), future).encode(r, out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** A header and a few bytes of datum, whose image id claims to be 2 GB long. */
  private static byte[] claimingHugeField(byte[] whole) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(whole, 0, 10);
    long zigzag = 2_000_000_000L << 1;
    while ((zigzag & ~0x7FL) != 0) {
      out.write((int) ((zigzag & 0x7F) | 0x80));
      zigzag >>>= 7;
    }
    out.write((int) zigzag);
    out.write(whole, 11, 20);
    return out.toByteArray();
  }

  private static Sample good(String image, int classIndex, int variant, int views) {
    return Sample.newBuilder(TestData.synthetic(image, classIndex, image.hashCode() & 0x7f, variant)).setViews(views).build();
  }

  /** Every hostile sample record: undecodable ones and decodable ones the trainer must refuse. */
  private static Map<String, byte[]> hostileSamples(Sample template, boolean val) {
    byte[] whole = bytes(template);
    Map<String, byte[]> out = new java.util.LinkedHashMap<>();
    out.put("garbage", "\u0000\u0007 garbage, not a sample \u00ff".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    out.put("truncated", truncated(whole));
    out.put("unknown fingerprint", unknownFingerprint(whole));
    out.put("schema from the future", fromTheFuture(template));
    out.put("claims a 2 GB field", claimingHugeField(whole));
    out.put("tombstone", null);
    out.put("class index out of range", bytes(Sample.newBuilder(template).setClassIndex(CLASSES).build()));
    out.put("negative class index", bytes(Sample.newBuilder(template).setClassIndex(-1).build()));
    out.put("wrong pixel count", bytes(Sample.newBuilder(template).setPixels(ByteBuffer.wrap(new byte[CROP * CROP * 3 - 1])).build()));
    out.put("wrong crop size", bytes(Sample.newBuilder(template).setCropSize(CROP + 2)
        .setPixels(ByteBuffer.wrap(new byte[(CROP + 2) * (CROP + 2) * 3])).build()));
    out.put("wrong image size", bytes(Sample.newBuilder(template).setImageSize(IMAGE * 2).build()));
    if (val) {
      out.put("view number out of range", bytes(Sample.newBuilder(template).setVariant(12).build()));
      out.put("no views", bytes(Sample.newBuilder(template).setViews(0).build()));
    } else {
      out.put("lighting not finite", bytes(Sample.newBuilder(template).setLighting(List.of(0f, Float.NaN, 0f)).build()));
    }
    return out;
  }

  private static List<Placed> publishRaw(String topic, Map<String, byte[]> records, int partitions) throws Exception {
    List<Placed> placed = new ArrayList<>();
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, TestData.bootstrap(), ProducerConfig.ACKS_CONFIG, "all"),
        new StringSerializer(), new ByteArraySerializer())) {
      int i = 0;
      for (Map.Entry<String, byte[]> e : records.entrySet()) {
        RecordMetadata m = producer.send(new ProducerRecord<>(topic, i++ % partitions, "hostile-" + e.getKey(), e.getValue())).get();
        placed.add(new Placed(e.getKey(), m.partition(), m.offset()));
      }
    }
    return placed;
  }

  /**
   * Waits until every transaction's commit marker is written: commitTransaction returns before the
   * markers are, and until then the last transaction lies beyond the read_committed end offsets
   * an epoch or an evaluation takes when it starts.
   */
  private static void awaitCommitted(String topic) throws InterruptedException {
    Map<String, Object> props = new HashMap<>();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, TestData.bootstrap());
    try (KafkaConsumer<byte[], byte[]> committed = consumer(props, "read_committed");
         KafkaConsumer<byte[], byte[]> all = consumer(props, "read_uncommitted")) {
      List<org.apache.kafka.common.TopicPartition> parts = all.partitionsFor(topic).stream()
          .map(p -> new org.apache.kafka.common.TopicPartition(topic, p.partition())).toList();
      long deadline = System.currentTimeMillis() + 30_000;
      while (!committed.endOffsets(parts).equals(all.endOffsets(parts))) {
        assertThat(System.currentTimeMillis()).as("commit markers of " + topic).isLessThan(deadline);
        Thread.sleep(20);
      }
    }
  }

  private static KafkaConsumer<byte[], byte[]> consumer(Map<String, Object> props, String isolation) {
    Map<String, Object> p = new HashMap<>(props);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
    return new KafkaConsumer<>(p, new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
        new org.apache.kafka.common.serialization.ByteArrayDeserializer());
  }

  private List<String> logLines(Class<?> logger) {
    return logs.get(logger).list.stream().map(ILoggingEvent::getFormattedMessage).toList();
  }

  /** Every hostile record's skip is logged, naming the topic, the partition and the offset. */
  private void assertEachSkipLogged(Class<?> logger, String topic, List<Placed> placed) {
    List<String> lines = logLines(logger);
    for (Placed p : placed) {
      String at = topic + "-" + p.partition() + " offset " + p.offset();
      assertThat(lines).as("a log line for %s at %s", p.what(), at).anyMatch(l -> l.contains(at) && l.contains("rejected")
          || l.contains(at) && l.contains("skipped"));
    }
  }

  // ---------------------------------------------------------------- samples.train

  private BlockReader reader(Topics t, BatchAssembler assembler) {
    Map<String, Object> props = new HashMap<>(BlockReader.consumerSettings(4 * 200));
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, TestData.bootstrap());
    KafkaConsumer<String, Sample> consumer = new KafkaConsumer<>(props, new StringDeserializer(), RecordSerdes.sample());
    consumers.add(consumer);
    return new BlockReader(consumer, t.samplesTrain(), assembler::problem);
  }

  private static List<TrainSample> drain(ShuffledEpoch epoch) {
    List<TrainSample> out = new ArrayList<>();
    TrainSample s;
    while ((s = epoch.next()) != null) {
      out.add(s);
    }
    return out;
  }

  @Test
  void anEpochHandsOutExactlyTheGoodTrainingSamplesAndCountsEachHostileRecordOnce() throws Exception {
    Topics topics = TestData.freshTopics("hostile-train-it");
    String topic = topics.samplesTrain();
    BatchAssembler assembler = new BatchAssembler(new MeanImage(IMAGE, IMAGE, new float[IMAGE * IMAGE * 3]), CROP, CLASSES);
    List<Sample> goodFirst = new ArrayList<>();
    List<Sample> goodLater = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      for (int v = 0; v < 3; v++) {
        (i < 20 ? goodFirst : goodLater).add(good("img-" + i, i % CLASSES, v, 1));
      }
    }
    // good samples in transactions (with their commit markers), hostile records after each, so a
    // poison record sits right behind a marker as well as between data records
    TestData.publishAsAugment(topic, goodFirst, 12, false);
    Map<String, byte[]> hostile = hostileSamples(good("img-x", 1, 0, 1), false);
    List<Placed> placed = new ArrayList<>(publishRaw(topic, hostile, 8));
    TestData.publishAsAugment(topic, goodLater, 12, false);
    placed.addAll(publishRaw(topic, hostile, 8));
    awaitCommitted(topic);
    int hostileCount = placed.size();
    assertThat(hostileCount).isEqualTo(2 * 12);
    Set<String> goodKeys = new HashSet<>();
    goodFirst.forEach(s -> goodKeys.add(s.getImageId() + "#" + s.getVariant()));
    goodLater.forEach(s -> goodKeys.add(s.getImageId() + "#" + s.getVariant()));

    // one reader; then three in parallel on blocks of 4 (each reads on through the others' blocks,
    // hostile records included: they must still be counted once)
    for (int readers : new int[] {1, 3}) {
      List<BlockReader> list = new ArrayList<>();
      for (int r = 0; r < readers; r++) {
        list.add(reader(topics, assembler));
      }
      try (ShuffledEpoch epoch = new ShuffledEpoch(list, 4, 32, 16)) {
        for (int e = 1; e <= 2; e++) {
          epoch.startEpoch(e, 5);
          List<TrainSample> got = drain(epoch);
          assertThat(got).as("%d readers, epoch %d", readers, e).hasSize(goodKeys.size());
          assertThat(got.stream().map(s -> s.sample().getImageId() + "#" + s.sample().getVariant()).collect(Collectors.toSet()))
              .isEqualTo(goodKeys);
          assertThat(got.stream().map(TrainSample::ref).distinct().count()).isEqualTo(goodKeys.size());
          assertThat(epoch.rejected()).as("%d readers, after epoch %d", readers, e).isEqualTo((long) e * hostileCount);
          // and every sample handed out assembles into a batch
          assertThat(assembler.features(got.stream().map(TrainSample::sample).toList())).hasSize(got.size() * 3 * CROP * CROP);
        }
      }
    }
    assertEachSkipLogged(BlockReader.class, topic, placed);
    long poisonLines = logLines(BlockReader.class).stream().filter(l -> l.contains("rejected undecodable record")).count();
    assertThat(poisonLines).as("5 undecodable kinds x 2 copies x 2 epochs x 2 runs").isEqualTo(5 * 2 * 2 * 2);
    assertThat(logLines(BlockReader.class)).anyMatch(l -> l.contains("unknown schema, fingerprint"));
  }

  // ---------------------------------------------------------------- samples.val

  /** Predicts every sample's own class: the errors say whether only good views were scored. */
  private static final class Oracle implements Engine {
    @Override public String name() { return "oracle"; }
    @Override public String device() { return "cpu"; }
    @Override public AlexNetSpec spec() { throw new UnsupportedOperationException(); }
    @Override public long parameterCount() { return 0; }
    @Override public void setLearningRate(double learningRate) { }
    @Override public double trainStep(Batch batch, long stepSeed) { throw new UnsupportedOperationException(); }
    @Override public Gradient gradient(Batch batch, long stepSeed) { throw new UnsupportedOperationException(); }
    @Override public Tensors parameters() { throw new UnsupportedOperationException(); }
    @Override public Tensors momentum() { throw new UnsupportedOperationException(); }
    @Override public void load(Tensors parameters, Tensors momentum) { throw new UnsupportedOperationException(); }
    @Override public void close() { }

    @Override
    public float[] predict(Batch batch) {
      float[] p = new float[batch.size() * CLASSES];
      for (int b = 0; b < batch.size(); b++) {
        p[b * CLASSES + batch.labels()[b]] = 1f;
      }
      return p;
    }
  }

  @Test
  void theEvaluatorScoresExactlyTheGoodViewsAndCountsEachHostileRecordOnce() throws Exception {
    Topics topics = TestData.freshTopics("hostile-val-it");
    String topic = topics.samplesVal();
    int images = 12;
    List<Sample> views = new ArrayList<>();
    for (int i = 0; i < images; i++) {
      for (int v = 0; v < 10; v++) {
        views.add(good("val-" + i, i % CLASSES, v, 10));
      }
    }
    TestData.publishAsAugment(topic, views.subList(0, 60), 20, false);
    // hostile views of a good image: were any scored, that image's ten-view score would come early
    Map<String, byte[]> hostile = hostileSamples(good("val-0", 0, 3, 10), true);
    List<Placed> placed = publishRaw(topic, hostile, 4);
    TestData.publishAsAugment(topic, views.subList(60, views.size()), 20, false);
    awaitCommitted(topic);
    assertThat(placed).hasSize(13);

    KafkaConnection kafka = new KafkaConnection(TestData.bootstrap(), topics);
    BatchAssembler assembler = new BatchAssembler(new MeanImage(IMAGE, IMAGE, new float[IMAGE * IMAGE * 3]), CROP, CLASSES);
    Evaluator evaluator = new Evaluator(kafka, assembler, 32);
    EvalResult read = evaluator.evaluate(new Oracle());
    assertThat(read.images()).isEqualTo(images);
    assertThat(read.tenViewImages()).isEqualTo(images);
    assertThat(read.incomplete()).isZero();
    assertThat(read.centreTop1Error()).isZero();
    assertThat(read.tenViewTop1Error()).isZero();
    assertThat(evaluator.viewsScored()).isEqualTo(10L * images);
    assertThat(evaluator.skipped()).isEqualTo(13);
    assertEachSkipLogged(org.alexkafka.trainer.data.EpochReader.class, topic, placed);

    EvalResult cached = evaluator.evaluate(new Oracle()); // the same topic: the cached samples
    assertThat(cached).isEqualTo(read);
    assertThat(evaluator.viewsScored()).isEqualTo(10L * images);
    assertThat(evaluator.skipped()).isEqualTo(13);
  }

  // ---------------------------------------------------------------- stats

  private static Stats stats(long count, int size, long value, Instant at) {
    long[] sums = new long[size * size * 3];
    Arrays.fill(sums, value * count);
    return Stats.newBuilder().setCount(count).setWidth(size).setHeight(size)
        .setPixelSums(Arrays.stream(sums).boxed().toList()).setChannelSums(List.of(0L, 0L, 0L))
        .setChannelProducts(List.of(0L, 0L, 0L, 0L, 0L, 0L)).setUpdatedAt(at).build();
  }

  @Test
  void theStatsReaderSkipsAndCountsHostileRecordsAndTakesTheNewestGoodOne() throws Exception {
    Topics topics = TestData.freshTopics("hostile-stats-it");
    String topic = topics.stats();
    Instant t0 = Instant.ofEpochMilli(1_700_000_000_000L);
    Stats older = stats(2, IMAGE, 10, t0);
    Stats newest = stats(3, IMAGE, 20, t0.plusSeconds(10));
    Instant later = t0.plusSeconds(60); // every hostile record claims to be newer than the good ones
    byte[] newestBytes = RecordSerdes.stats().serialize(topic, newest);
    Map<String, byte[]> hostile = new java.util.LinkedHashMap<>();
    hostile.put("garbage", "not stats at all".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    hostile.put("truncated", Arrays.copyOf(newestBytes, newestBytes.length / 2));
    hostile.put("unknown fingerprint", unknownFingerprint(RecordSerdes.stats().serialize(topic, stats(5, IMAGE, 30, later))));
    hostile.put("schema from the future", fromTheFuture(stats(5, IMAGE, 30, later)));
    hostile.put("wrong pixel count", RecordSerdes.stats().serialize(topic,
        Stats.newBuilder(stats(5, IMAGE, 30, later)).setPixelSums(List.of(1L, 2L, 3L)).build()));
    hostile.put("no images counted", RecordSerdes.stats().serialize(topic, stats(0, IMAGE, 0, later)));
    hostile.put("tombstone", null);

    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, TestData.bootstrap(), ProducerConfig.ACKS_CONFIG, "all",
        ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 8 * 1024 * 1024), new StringSerializer(), new ByteArraySerializer())) {
      producer.send(new ProducerRecord<>(topic, 0, "train", RecordSerdes.stats().serialize(topic, older))).get();
      producer.send(new ProducerRecord<>(topic, 0, "train", newestBytes)).get();
    }
    List<Placed> placed = publishRaw(topic, hostile, 1);

    StatsReader.Latest latest = StatsReader.latest(new KafkaConnection(TestData.bootstrap(), topics), Duration.ofSeconds(30));
    assertThat(latest.skipped()).as("every hostile record but the tombstone").isEqualTo(6);
    assertThat(latest.stats()).isEqualTo(newest);
    assertThat(latest.mean().width()).isEqualTo(IMAGE);
    float[] expected = new float[IMAGE * IMAGE * 3];
    Arrays.fill(expected, 20f);
    assertThat(latest.mean().pixels()).containsExactly(expected);
    assertEachSkipLogged(StatsReader.class, topic, placed.stream().filter(p -> !p.what().equals("tombstone")).toList());
    assertThat(logLines(StatsReader.class)).anyMatch(l -> l.contains("unknown schema, fingerprint"));
  }
}
