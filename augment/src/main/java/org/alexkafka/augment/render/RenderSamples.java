package org.alexkafka.augment.render;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import org.alexkafka.schemas.Sample;
import org.alexkafka.schemas.config.KafkaConnection;
import org.alexkafka.schemas.config.KafkaOptions;
import org.alexkafka.schemas.serde.RecordSerdes;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code render-samples}: reads the first samples of {@code samples.train} (or {@code samples.val})
 * and writes each as a PNG with its lighting applied, plus a contact sheet pairing every sample's
 * stored pixels (left) with what the trainer sees (right), upscaled.
 */
@Command(name = "render-samples", mixinStandardHelpOptions = true,
    description = "Write a few samples as PNGs (lighting applied) and a contact sheet, to see what the trainer sees.")
public class RenderSamples implements Callable<Integer> {

  private static final Logger log = LoggerFactory.getLogger(RenderSamples.class);

  @Mixin
  KafkaOptions kafka = new KafkaOptions();

  @Option(names = "--split", defaultValue = "${env:RENDER_SPLIT:-train}", description = "train or val (default ${DEFAULT-VALUE}).")
  String split;

  @Option(names = "--count", defaultValue = "${env:RENDER_COUNT:-16}", description = "Samples to render (default ${DEFAULT-VALUE}).")
  int count;

  @Option(names = "--out", defaultValue = "${env:RENDER_OUT:-render}", description = "Output folder (default ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--scale", defaultValue = "${env:RENDER_SCALE:-2}", description = "Contact sheet upscale factor (default ${DEFAULT-VALUE}).")
  int scale;

  @Option(names = "--timeout-s", defaultValue = "${env:RENDER_TIMEOUT_S:-30}", description = "Give up waiting for samples after this (default ${DEFAULT-VALUE}).")
  int timeoutSeconds;

  @Override
  public Integer call() throws IOException {
    KafkaConnection connection = kafka.toConnection();
    String topic = switch (split) {
      case "train" -> connection.topics().samplesTrain();
      case "val" -> connection.topics().samplesVal();
      default -> throw new IllegalArgumentException("--split must be train or val, got " + split);
    };
    List<Sample> samples = read(connection, topic, count, Duration.ofSeconds(timeoutSeconds));
    if (samples.isEmpty()) {
      System.err.println("no samples on " + topic + " within " + timeoutSeconds + " s");
      return 1;
    }
    List<Path> written = write(samples, out, scale);
    System.out.println("wrote " + written.size() + " files to " + out.toAbsolutePath());
    return 0;
  }

  static List<Sample> read(KafkaConnection connection, String topic, int count, Duration timeout) {
    Map<String, Object> props = new HashMap<>(connection.clientProperties());
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 8 * 1024 * 1024);
    List<Sample> samples = new ArrayList<>();
    try (KafkaConsumer<String, Sample> consumer = new KafkaConsumer<>(props, new StringDeserializer(), RecordSerdes.sample())) {
      consumer.assign(consumer.partitionsFor(topic).stream().map(p -> new TopicPartition(topic, p.partition())).toList());
      consumer.seekToBeginning(consumer.assignment());
      long deadline = System.nanoTime() + timeout.toNanos();
      while (samples.size() < count && System.nanoTime() < deadline) {
        List<ConsumerRecord<String, Sample>> polled = new ArrayList<>();
        try {
          consumer.poll(Duration.ofMillis(200)).forEach(polled::add);
        } catch (org.apache.kafka.common.errors.RecordDeserializationException e) {
          log.warn("skipped undecodable record at {} offset {}: {}", e.topicPartition(), e.offset(),
              e.getCause() == null ? e.getMessage() : e.getCause().getMessage());
          consumer.seek(e.topicPartition(), e.offset() + 1);
        }
        for (ConsumerRecord<String, Sample> r : polled) {
          Sample s = r.value();
          if (s == null || s.getCropSize() <= 0 || s.getPixels().remaining() != 3L * s.getCropSize() * s.getCropSize()) {
            log.warn("skipped record at {}-{} offset {}: not a renderable sample", r.topic(), r.partition(), r.offset());
          } else if (samples.size() < count) {
            samples.add(s);
          }
        }
      }
    }
    return samples;
  }

  /** One lit PNG per sample, numbered and named after image and variant, and {@code contact-sheet.png}. */
  public static List<Path> write(List<Sample> samples, Path dir, int scale) throws IOException {
    Files.createDirectories(dir);
    List<Path> written = new ArrayList<>();
    List<BufferedImage> tiles = new ArrayList<>();
    for (int i = 0; i < samples.size(); i++) {
      Sample s = samples.get(i);
      BufferedImage lit = SampleRenderer.lit(s);
      String id = s.getImageId().length() > 12 ? s.getImageId().substring(0, 12) : s.getImageId();
      // Numbered: the same image and variant can appear twice on a topic (a replay).
      Path file = dir.resolve(String.format("%03d-%s-v%d.png", i, id, s.getVariant()));
      ImageIO.write(lit, "png", file.toFile());
      written.add(file);
      tiles.add(SampleRenderer.unlit(s));
      tiles.add(lit);
      log.info("{}: class {} crop ({},{}) mirrored={} lighting {}", file.getFileName(), s.getLabel(), s.getCropX(),
          s.getCropY(), s.getMirrored(), s.getLighting());
    }
    Path sheet = dir.resolve("contact-sheet.png");
    ImageIO.write(SampleRenderer.contactSheet(tiles, 8, scale), "png", sheet.toFile());
    written.add(sheet);
    return written;
  }
}
