package org.alexkafka.augment.topology;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.alexkafka.augment.AugmentMetrics;
import org.alexkafka.augment.lighting.RgbPca;
import org.alexkafka.augment.sample.SampleFactory;
import org.alexkafka.augment.sample.SampleFactory.Pixels;
import org.alexkafka.augment.sample.SampleFactory.Source;
import org.alexkafka.augment.stats.StatsAccumulator;
import org.alexkafka.schemas.Image;
import org.alexkafka.schemas.LabelEntry;
import org.alexkafka.schemas.Sample;
import org.alexkafka.schemas.Split;
import org.alexkafka.schemas.Stats;
import org.alexkafka.schemas.serde.AvroSerde;
import org.alexkafka.schemas.serde.RecordSerdes;
import org.alexkafka.schemas.topics.Topics;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The augment step for one partition of {@code images}: decodes each record by hand (so a poison
 * record becomes a dead letter, not a crash), checks it, finds its class index, counts training
 * images into this task's statistics once per image id, and emits the samples.
 *
 * <p>Labels race: ingest publishes a label before the images of its class, but the global labels
 * table is filled by its own thread, so an image can arrive first. Such an image waits in a
 * (logged) state store and is retried on a wall-clock punctuator; after {@code labelWait} it is
 * dead-lettered as {@code unknown-label}.
 *
 * <p>Lighting uses the statistics published so far (read from the global stats table every
 * 500 ms); before any are published the shift is zero. Crop, flip and α depend only on (seed,
 * image id, variant), so a sample is byte-identical on replay whenever the statistics are the same.
 */
final class AugmentProcessor implements Processor<String, byte[], String, Routed> {

  private static final Logger log = LoggerFactory.getLogger(AugmentProcessor.class);
  /** Bound on images waiting for labels per task; beyond it an unlabelled image is rejected at once. */
  static final int MAX_WAITING = 10_000;
  private static final Duration RETRY_EVERY = Duration.ofMillis(500);

  private final Topics topics;
  private final SampleFactory factory;
  private final int cropSize;
  private final Duration statsInterval;
  private final Duration labelWait;
  private final AugmentMetrics metrics;
  private final AvroSerde<Image> imageSerde = RecordSerdes.image();
  private final AvroSerde<Stats> statsSerde = RecordSerdes.stats();

  private ProcessorContext<String, Routed> context;
  private KeyValueStore<String, Long> seenIds;
  private KeyValueStore<String, byte[]> partialStore;
  private KeyValueStore<String, byte[]> waiting;
  private ReadOnlyKeyValueStore<String, ValueAndTimestamp<LabelEntry>> labels;
  private ReadOnlyKeyValueStore<String, ValueAndTimestamp<byte[]>> publishedStats;

  private StatsAccumulator partial;
  private boolean partialDirty;
  private int waitingCount;
  private RgbPca pca = RgbPca.NONE;
  private long pcaTimestamp = Long.MIN_VALUE;
  private int pcaLength = -1;

  AugmentProcessor(Topics topics, SampleFactory factory, int cropSize, Duration statsInterval, Duration labelWait,
      AugmentMetrics metrics) {
    this.topics = topics;
    this.factory = factory;
    this.cropSize = cropSize;
    this.statsInterval = statsInterval;
    this.labelWait = labelWait;
    this.metrics = metrics;
  }

  @Override
  public void init(ProcessorContext<String, Routed> context) {
    this.context = context;
    seenIds = context.getStateStore(StoreNames.SEEN_TRAIN_IDS);
    partialStore = context.getStateStore(StoreNames.STATS_PARTIAL);
    waiting = context.getStateStore(StoreNames.LABEL_WAIT);
    labels = context.getStateStore(StoreNames.LABELS);
    publishedStats = context.getStateStore(StoreNames.STATS);
    byte[] saved = partialStore.get(StoreNames.PARTIAL_KEY);
    partial = saved == null ? null : StatsAccumulator.fromBytes(saved);
    try (KeyValueIterator<String, byte[]> it = waiting.all()) {
      while (it.hasNext()) {
        it.next();
        waitingCount++;
      }
    }
    refreshPca();
    context.schedule(RETRY_EVERY, PunctuationType.WALL_CLOCK_TIME, now -> {
      refreshPca();
      retryWaiting(now);
    });
    context.schedule(statsInterval, PunctuationType.WALL_CLOCK_TIME, now -> publishPartial(now));
  }

  @Override
  public void process(Record<String, byte[]> record) {
    String source = context.recordMetadata()
        .map(m -> m.topic() + "-" + m.partition() + "@" + m.offset()).orElse("unknown");
    try {
      handle(source, record.value(), record.timestamp(), false);
    } catch (RuntimeException e) {
      // nothing is forwarded before every check has passed, so nothing of this record went out
      processingError(source, record.value(), record.timestamp(), e);
    }
  }

  private void processingError(String source, byte[] bytes, long timestamp, RuntimeException e) {
    log.warn("augmenting {} failed", source, e);
    reject(source, Rejections.PROCESSING_ERROR, "augmenting the image failed: " + e, null, bytes, timestamp);
  }

  /** Returns false when the image must keep waiting for its label. */
  private boolean handle(String source, byte[] bytes, long timestamp, boolean retry) {
    if (bytes == null) {
      reject(source, Rejections.POISON, "a record with no value (tombstone) on the images topic", null, null, timestamp);
      return true;
    }
    Image image;
    try {
      image = imageSerde.deserialize(topics.images(), bytes);
    } catch (SerializationException e) {
      reject(source, Rejections.undecodable(e), e.getMessage(), null, bytes, timestamp);
      return true;
    }
    String problem = checkShape(image);
    if (problem != null) {
      String reason = problem.startsWith("pixels") ? Rejections.WRONG_PIXEL_LENGTH : Rejections.WRONG_SIZE;
      reject(source, reason, problem, image.getId(), bytes, timestamp);
      return true;
    }
    ValueAndTimestamp<LabelEntry> label;
    try {
      label = labels.get(image.getLabel());
    } catch (SerializationException e) {
      // a poison record loaded into the global table at start-up (Streams does not deserialize
      // while it restores a global store, so the dead-letter handler never saw it)
      reject(source, Rejections.UNKNOWN_LABEL, "the labels topic's record for '" + image.getLabel()
          + "' cannot be read: " + e.getMessage(), image.getId(), bytes, timestamp);
      return true;
    }
    if (label == null) {
      if (retry) {
        return false;
      }
      if (waitingCount >= MAX_WAITING) {
        reject(source, Rejections.UNKNOWN_LABEL, "label '" + image.getLabel() + "' is not in the labels topic and "
            + MAX_WAITING + " images already wait for labels", image.getId(), bytes, timestamp);
        return true;
      }
      holdForLabel(source, image, bytes);
      return true;
    }
    String invalid = checkLabel(image, label.value());
    if (invalid != null) {
      reject(source, Rejections.INVALID_LABEL, invalid, image.getId(), bytes, timestamp);
      return true;
    }
    emit(image, label.value(), timestamp);
    return true;
  }

  /** Why the labels topic's entry cannot label this image, or null. */
  private static String checkLabel(Image image, LabelEntry label) {
    if (label.getIndex() < 0) {
      return "the labels topic gives class '" + image.getLabel() + "' the index " + label.getIndex()
          + ", outside 0.." + Integer.MAX_VALUE;
    }
    if (!image.getLabel().equals(label.getClassId())) {
      return "the labels topic's entry for '" + image.getLabel() + "' is for class '" + label.getClassId() + "'";
    }
    return null;
  }

  private String checkShape(Image image) {
    int w = image.getWidth(), h = image.getHeight();
    if (w != h || w < cropSize) {
      return "image is " + w + "x" + h + "; need a square image of at least the crop size " + cropSize;
    }
    if (partial != null && image.getSplit() == Split.TRAIN && partial.width() != w) {
      return "image is " + w + "x" + h + " but the training statistics are for " + partial.width() + "x"
          + partial.height() + " images";
    }
    long expected = 3L * w * h;
    if (image.getPixels().remaining() != expected) {
      return "pixels hold " + image.getPixels().remaining() + " bytes; a " + w + "x" + h + " RGB image needs " + expected;
    }
    return null;
  }

  /** Cuts every sample first, so an image either gives all of them or (throwing) none. */
  private void emit(Image image, LabelEntry label, long timestamp) {
    Pixels pixels = Pixels.of(image.getPixels(), image.getWidth());
    Source source = new Source(image.getId(), label.getIndex(), label.getClassId());
    if (image.getSplit() == Split.TRAIN) {
      List<Sample> samples = factory.trainingVariants(source, pixels, pca);
      countIntoStats(image.getId(), pixels);
      for (Sample s : samples) {
        context.forward(new Record<>(image.getId() + "#" + s.getVariant(), new Routed(topics.samplesTrain(), s), timestamp));
        metrics.sampleEmitted(topics.samplesTrain());
      }
    } else {
      for (Sample s : factory.testViews(source, pixels)) {
        context.forward(new Record<>(image.getId(), new Routed(topics.samplesVal(), s), timestamp));
        metrics.sampleEmitted(topics.samplesVal());
      }
    }
  }

  private void countIntoStats(String imageId, Pixels pixels) {
    if (seenIds.get(imageId) != null) {
      return; // a replay of an image already counted
    }
    if (partial == null) {
      partial = new StatsAccumulator(pixels.imageSize(), pixels.imageSize());
    }
    partial.add(pixels.array(), pixels.offset());
    seenIds.put(imageId, context.currentSystemTimeMs());
    // Written every time, so the sums and the seen ids are always committed together; the store's
    // cache coalesces the writes to one changelog record per commit.
    partialStore.put(StoreNames.PARTIAL_KEY, partial.toBytes());
    partialDirty = true;
    metrics.imageCounted();
  }

  private void publishPartial(long now) {
    if (!partialDirty || partial == null) {
      return;
    }
    String key = "task-" + context.taskId().subtopology() + "_" + context.taskId().partition();
    context.forward(new Record<>(key, Routed.partial(partial.toPartialStats(Instant.ofEpochMilli(now))), now));
    partialDirty = false;
  }

  private void holdForLabel(String source, Image image, byte[] bytes) {
    byte[] sourceBytes = source.getBytes(StandardCharsets.UTF_8);
    byte[] entry = ByteBuffer.allocate(8 + 2 + sourceBytes.length + bytes.length)
        .putLong(context.currentSystemTimeMs())
        .putShort((short) sourceBytes.length)
        .put(sourceBytes)
        .put(bytes).array();
    String key = source; // unique per record: the same image id may legitimately come twice
    if (waiting.get(key) == null) {
      waitingCount++;
    }
    waiting.put(key, entry);
    metrics.labelWaited();
    log.debug("image {} ({}) waits for label {}", image.getId(), source, image.getLabel());
  }

  private void retryWaiting(long now) {
    if (waitingCount == 0) {
      return;
    }
    List<KeyValue<String, byte[]>> entries = new ArrayList<>();
    try (KeyValueIterator<String, byte[]> it = waiting.all()) {
      it.forEachRemaining(entries::add);
    }
    for (KeyValue<String, byte[]> e : entries) {
      ByteBuffer buf = ByteBuffer.wrap(e.value);
      long since = buf.getLong();
      byte[] sourceBytes = new byte[buf.getShort()];
      buf.get(sourceBytes);
      byte[] payload = new byte[buf.remaining()];
      buf.get(payload);
      String source = new String(sourceBytes, StandardCharsets.UTF_8);
      boolean done;
      try {
        done = handle(source, payload, now, true);
      } catch (RuntimeException ex) {
        processingError(source, payload, now, ex);
        done = true;
      }
      if (!done && now - since >= labelWait.toMillis()) {
        Image image = imageSerde.deserialize(topics.images(), payload);
        reject(source, Rejections.UNKNOWN_LABEL, "label '" + image.getLabel() + "' did not appear in the labels topic within "
            + labelWait.toMillis() + " ms", image.getId(), payload, now);
        done = true;
      }
      if (done) {
        waiting.delete(e.key);
        waitingCount--;
      }
    }
  }

  private void reject(String source, String reason, String detail, String imageId, byte[] payload, long timestamp) {
    log.warn("rejected {} ({}): {}", source, reason, detail);
    context.forward(new Record<>(imageId == null ? source : imageId,
        new Routed(topics.imagesRejected(), Rejections.of(source, reason, detail, imageId, payload,
            context.currentSystemTimeMs())), timestamp));
    metrics.rejected(reason);
  }

  /** Reads the published statistics' PCA when they changed (cheap check: timestamp and size). */
  private void refreshPca() {
    ValueAndTimestamp<byte[]> published = publishedStats.get(StoreNames.STATS_KEY);
    if (published == null || published.value() == null) {
      return;
    }
    if (published.timestamp() == pcaTimestamp && published.value().length == pcaLength) {
      return;
    }
    try {
      Stats stats = statsSerde.deserialize(topics.stats(), published.value());
      pca = RgbPca.of(stats.getEigenvalues(), stats.getEigenvectors());
      pcaTimestamp = published.timestamp();
      pcaLength = published.value().length;
    } catch (RuntimeException e) {
      log.warn("the published statistics could not be read, keeping the previous PCA: {}", e.getMessage());
    }
  }

  /** The PCA this task uses now (for tests). */
  RgbPca currentPca() {
    return pca;
  }
}
