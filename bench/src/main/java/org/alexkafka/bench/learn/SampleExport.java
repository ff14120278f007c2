package org.alexkafka.bench.learn;

import org.alexkafka.trainer.checkpoint.Npy;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.alexkafka.schemas.Sample;
import org.alexkafka.schemas.config.KafkaConnection;
import org.alexkafka.schemas.serde.RecordSerdes;
import org.alexkafka.trainer.data.BatchAssembler;
import org.alexkafka.trainer.data.MeanImage;
import org.alexkafka.trainer.data.StatsReader;
import org.alexkafka.trainer.model.AlexNetSpec;
import org.alexkafka.trainer.train.TrainerConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Writes the very samples the trainer reads (samples.train, samples.val) and the mean image of
 * the stats topic into a folder of {@code .npy} files, so that the PyTorch peer of the learning
 * bench ({@code bench/learn_torch.py}) trains on the same data:
 *
 * <pre>
 * mean.npy            float32 [H, W, 3]   the mean image, pixel units (the trainer's MeanImage)
 * train_pixels.npy    uint8   [N, C, C, 3] crops as published (already mirrored), interleaved RGB
 * train_info.npy      int32   [N, 5]      class index, crop x, crop y, mirrored (0/1), variant
 * train_lighting.npy  float32 [N, 3]      the PCA lighting shift of the presentation
 * val_pixels.npy      uint8   [M, C, C, 3]
 * val_info.npy        int32   [M, 7]      class index, crop x, crop y, mirrored, view (0 = centre), views, image number
 * val_lighting.npy    float32 [M, 3]
 * meta.json           sizes, class count, the trainer's configuration and network spec
 * </pre>
 *
 * A batch is then what {@code BatchAssembler} builds: {@code pixel - mean[cropY + y, cropX + x'] +
 * lighting}, with {@code x' = C-1-x} for mirrored crops, in NCHW. Samples the trainer would reject
 * ({@code BatchAssembler.problem}) are left out and counted; a validation view published twice is
 * kept once, as the evaluator counts it once.
 */
public final class SampleExport {

  public static final String META = "meta.json";
  static final int TRAIN_INFO = 5;
  static final int VAL_INFO = 7;

  /** What was exported. */
  public record Summary(Path dir, int trainSamples, int valViews, int valImages, int rejected, int classes) {
  }

  /** The samples of one split, accumulated in the layout of the files. */
  static final class Split {
    private final boolean val;
    private final int crop;
    private final ByteArrayOutputStream pixels = new ByteArrayOutputStream();
    private final List<int[]> info = new ArrayList<>();
    private final List<float[]> lighting = new ArrayList<>();
    private final Map<String, Integer> imageNumbers = new HashMap<>();
    private final Map<String, Long> viewsSeen = new HashMap<>();

    Split(boolean val, int crop) {
      this.val = val;
      this.crop = crop;
    }

    void add(Sample s) {
      if (val) {
        long mask = viewsSeen.getOrDefault(s.getImageId(), 0L);
        long bit = 1L << Math.min(63, s.getVariant());
        if ((mask & bit) != 0) {
          return;
        }
        viewsSeen.put(s.getImageId(), mask | bit);
      }
      ByteBuffer px = s.getPixels().duplicate();
      byte[] bytes = new byte[px.remaining()];
      px.get(bytes);
      pixels.writeBytes(bytes);
      int m = s.getMirrored() ? 1 : 0;
      if (val) {
        int image = imageNumbers.computeIfAbsent(s.getImageId(), k -> imageNumbers.size());
        info.add(new int[] {s.getClassIndex(), s.getCropX(), s.getCropY(), m, s.getVariant(), s.getViews(), image});
      } else {
        info.add(new int[] {s.getClassIndex(), s.getCropX(), s.getCropY(), m, s.getVariant()});
      }
      lighting.add(new float[] {s.getLighting().get(0), s.getLighting().get(1), s.getLighting().get(2)});
    }

    int size() {
      return info.size();
    }

    int images() {
      return val ? imageNumbers.size() : 0;
    }

    void write(Path dir, String prefix) throws IOException {
      int n = size();
      int width = val ? VAL_INFO : TRAIN_INFO;
      int[] flatInfo = new int[n * width];
      float[] flatLight = new float[n * 3];
      for (int i = 0; i < n; i++) {
        System.arraycopy(info.get(i), 0, flatInfo, i * width, width);
        System.arraycopy(lighting.get(i), 0, flatLight, i * 3, 3);
      }
      Npy.write(dir.resolve(prefix + "_pixels.npy"), Npy.ofBytes(pixels.toByteArray(), n, crop, crop, 3));
      Npy.write(dir.resolve(prefix + "_info.npy"), Npy.ofInts(flatInfo, n, width));
      Npy.write(dir.resolve(prefix + "_lighting.npy"), Npy.ofFloats(flatLight, n, 3));
    }
  }

  private SampleExport() {
  }

  /** Reads samples.train, samples.val (to their current ends) and the mean image, and writes them to {@code dir}. */
  public static Summary export(KafkaConnection kafka, TrainerConfig cfg, Path dir) throws IOException {
    MeanImage mean = StatsReader.latestMean(kafka, Duration.ofSeconds(cfg.statsTimeoutSeconds()));
    BatchAssembler check = new BatchAssembler(mean, cfg.inputSize(), cfg.classes());
    int[] rejected = {0};
    Split train = new Split(false, cfg.inputSize());
    Split val = new Split(true, cfg.inputSize());
    readAll(kafka, kafka.topics().samplesTrain(), s -> add(check, train, s, rejected));
    readAll(kafka, kafka.topics().samplesVal(), s -> add(check, val, s, rejected));
    Map<String, Object> about = new LinkedHashMap<>();
    about.put("classes", cfg.classes());
    about.put("crop_size", cfg.inputSize());
    about.put("trainer_config", components(cfg));
    about.put("spec", spec(cfg.spec()));
    return write(dir, mean, train, val, rejected[0], about);
  }

  private static void add(BatchAssembler check, Split split, Sample s, int[] rejected) {
    if (s == null || check.problem(s) != null) {
      rejected[0]++;
    } else {
      split.add(s);
    }
  }

  /** Writes the files; {@code about} (classes, crop_size, trainer_config, spec) goes into meta.json. Pure, for tests. */
  static Summary write(Path dir, MeanImage mean, Split train, Split val, int rejected, Map<String, Object> about)
      throws IOException {
    Files.createDirectories(dir);
    Npy.write(dir.resolve("mean.npy"), Npy.ofFloats(mean.pixels(), mean.height(), mean.width(), 3));
    train.write(dir, "train");
    val.write(dir, "val");
    Map<String, Object> meta = new LinkedHashMap<>();
    meta.put("format", "alexkafka-learn-export/1");
    meta.putAll(about);
    meta.put("image_size", mean.width());
    meta.put("train_samples", train.size());
    meta.put("val_views", val.size());
    meta.put("val_images", val.images());
    meta.put("rejected", rejected);
    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(dir.resolve(META).toFile(), meta);
    return new Summary(dir, train.size(), val.size(), val.images(), rejected, (Integer) about.getOrDefault("classes", 0));
  }

  /** The network spec as the peer reads it: its components and the derived conv1 padding and final map side. */
  static Map<String, Object> spec(AlexNetSpec spec) {
    Map<String, Object> m = components(spec);
    m.put("conv1Padding", spec.conv1Padding());
    m.put("finalSide", spec.finalSide());
    return m;
  }

  /** A record's components by name, nested records as maps (whatever fields the record has today). */
  static Map<String, Object> components(Record r) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (RecordComponent c : r.getClass().getRecordComponents()) {
      try {
        Object v = c.getAccessor().invoke(r);
        out.put(c.getName(), v instanceof Record nested ? components(nested) : v instanceof Number || v instanceof Boolean || v instanceof String || v instanceof List<?> || v == null
            ? v : String.valueOf(v));
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("cannot read " + c.getName() + " of " + r.getClass().getSimpleName(), e);
      }
    }
    return out;
  }

  private static void readAll(KafkaConnection kafka, String topic, java.util.function.Consumer<Sample> sink) {
    Map<String, Object> props = kafka.clientProperties();
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 4 * 1024 * 1024);
    try (KafkaConsumer<String, Sample> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
        RecordSerdes.sample().deserializer())) {
      List<TopicPartition> parts = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
          .map(p -> new TopicPartition(topic, p.partition())).sorted(java.util.Comparator.comparingInt(TopicPartition::partition))
          .toList();
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      Map<TopicPartition, Long> ends = consumer.endOffsets(parts);
      while (parts.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))) {
        for (ConsumerRecord<String, Sample> r : consumer.poll(Duration.ofMillis(200))) {
          if (r.offset() < ends.get(new TopicPartition(r.topic(), r.partition()))) {
            sink.accept(r.value());
          }
        }
      }
    }
  }
}
