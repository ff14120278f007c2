package org.alexkafka.trainer.support;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.alexkafka.broker.SharedKafka;
import org.alexkafka.schemas.Sample;
import org.alexkafka.schemas.Stats;
import org.alexkafka.schemas.serde.RecordSerdes;
import org.alexkafka.schemas.topics.SamplePartitioning;
import org.alexkafka.schemas.topics.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Test data: small images from testdata/imagenette-mini turned into Sample records the way
 * the augment service would (resize, crop, mirror, lighting), plus a Stats record; and tiny
 * synthetic samples for tests that need no real pixels.
 */
public final class TestData {

  private TestData() {
  }

  public static Path projectData() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null) {
      Path candidate = dir.resolve("testdata");
      if (Files.isDirectory(candidate.resolve("imagenette-mini"))) {
        return candidate;
      }
      dir = dir.getParent();
    }
    throw new IllegalStateException("no testdata/imagenette-mini above " + Path.of("").toAbsolutePath());
  }

  /** One decoded image, resized to size x size, interleaved RGB. */
  public record SmallImage(String id, int classIndex, String label, byte[] rgb) {
  }

  /** The first {@code perClass} images of each of the first {@code classes} classes of a split. */
  public static List<SmallImage> imagenette(String split, int classes, int perClass, int size) throws IOException {
    Path root = projectData().resolve("imagenette-mini").resolve(split);
    List<Path> classDirs;
    try (Stream<Path> s = Files.list(root)) {
      classDirs = s.filter(Files::isDirectory).sorted().limit(classes).toList();
    }
    List<SmallImage> out = new ArrayList<>();
    for (int c = 0; c < classDirs.size(); c++) {
      List<Path> files;
      try (Stream<Path> s = Files.list(classDirs.get(c))) {
        files = s.sorted().limit(perClass).toList();
      }
      for (Path f : files) {
        BufferedImage img = ImageIO.read(f.toFile());
        if (img == null) {
          throw new IOException("cannot decode " + f);
        }
        out.add(new SmallImage(split + "/" + f.getFileName(), c, classDirs.get(c).getFileName().toString(), resize(img, size)));
      }
    }
    return out;
  }

  private static byte[] resize(BufferedImage img, int size) {
    BufferedImage small = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = small.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.drawImage(img, 0, 0, size, size, null);
    g.dispose();
    byte[] rgb = new byte[size * size * 3];
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        int p = small.getRGB(x, y);
        int i = (y * size + x) * 3;
        rgb[i] = (byte) (p >> 16);
        rgb[i + 1] = (byte) (p >> 8);
        rgb[i + 2] = (byte) p;
      }
    }
    return rgb;
  }

  /** A crop of an image, mirrored if asked, as a Sample. */
  public static Sample crop(SmallImage img, int imageSize, int cropSize, int x0, int y0, boolean mirror, float[] lighting,
                            int variant, int views) {
    byte[] px = new byte[cropSize * cropSize * 3];
    for (int y = 0; y < cropSize; y++) {
      for (int x = 0; x < cropSize; x++) {
        int sx = x0 + (mirror ? cropSize - 1 - x : x);
        System.arraycopy(img.rgb(), ((y0 + y) * imageSize + sx) * 3, px, (y * cropSize + x) * 3, 3);
      }
    }
    return Sample.newBuilder().setImageId(img.id()).setClassIndex(img.classIndex()).setLabel(img.label())
        .setImageSize(imageSize).setCropSize(cropSize).setCropX(x0).setCropY(y0).setMirrored(mirror)
        .setLighting(List.of(lighting[0], lighting[1], lighting[2])).setVariant(variant).setViews(views)
        .setPixels(ByteBuffer.wrap(px)).build();
  }

  /** {@code variants} random training crops per image (random offset, mirror, small lighting shift), image order kept. */
  public static List<Sample> trainSamples(List<SmallImage> images, int imageSize, int cropSize, int variants, long seed) {
    Random r = new Random(seed);
    List<Sample> out = new ArrayList<>();
    int range = imageSize - cropSize + 1;
    for (SmallImage img : images) {
      for (int v = 0; v < variants; v++) {
        float[] light = {(float) r.nextGaussian() * 2, (float) r.nextGaussian() * 2, (float) r.nextGaussian() * 2};
        out.add(crop(img, imageSize, cropSize, r.nextInt(range), r.nextInt(range), r.nextBoolean(), light, v, 1));
      }
    }
    return out;
  }

  /** The paper's 10 test views: centre (variant 0), 4 corners, and their mirrors. */
  public static List<Sample> valViews(List<SmallImage> images, int imageSize, int cropSize) {
    List<Sample> out = new ArrayList<>();
    int m = imageSize - cropSize;
    int[][] at = {{m / 2, m / 2}, {0, 0}, {m, 0}, {0, m}, {m, m}};
    float[] none = {0, 0, 0};
    for (SmallImage img : images) {
      int v = 0;
      for (boolean mirror : new boolean[] {false, true}) {
        for (int[] xy : at) {
          out.add(crop(img, imageSize, cropSize, xy[0], xy[1], mirror, none, v++, 10));
        }
      }
    }
    return out;
  }

  public static Stats stats(List<SmallImage> images, int imageSize) {
    long[] sums = new long[imageSize * imageSize * 3];
    long[] channel = new long[3];
    for (SmallImage img : images) {
      for (int i = 0; i < sums.length; i++) {
        int v = img.rgb()[i] & 0xFF;
        sums[i] += v;
        channel[i % 3] += v;
      }
    }
    return Stats.newBuilder().setCount(images.size()).setWidth(imageSize).setHeight(imageSize)
        .setPixelSums(Arrays.stream(sums).boxed().toList()).setChannelSums(Arrays.stream(channel).boxed().toList())
        .setChannelProducts(List.of(0L, 0L, 0L, 0L, 0L, 0L)).setUpdatedAt(Instant.now()).build();
  }

  /** Fresh topics on the shared test broker. */
  public static Topics freshTopics(String purpose) throws InterruptedException {
    Topics topics = SharedKafka.freshTopics(purpose);
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap()))) {
      topics.createAll(admin, (short) 1);
    }
    return topics;
  }

  public static String bootstrap() {
    return SharedKafka.broker().bootstrapServers();
  }

  /**
   * Publishes in list order as augment does, in one transaction per {@code perTransaction} samples
   * (the last transaction aborted when {@code abortLast}): key imageId#variant, variant v of an
   * image in partition (hash + v) mod P.
   */
  public static void publishAsAugment(String topic, List<Sample> samples, int perTransaction, boolean abortLast)
      throws Exception {
    try (KafkaProducer<String, Sample> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap(), ProducerConfig.TRANSACTIONAL_ID_CONFIG, "test-" + topic,
        ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 4 * 1024 * 1024), new StringSerializer(), RecordSerdes.sample())) {
      producer.initTransactions();
      int partitions = producer.partitionsFor(topic).size();
      for (int from = 0; from < samples.size(); from += perTransaction) {
        producer.beginTransaction();
        for (Sample s : samples.subList(from, Math.min(samples.size(), from + perTransaction))) {
          int p = SamplePartitioning.partitionOf(s.getImageId(), s.getVariant(), partitions);
          producer.send(new ProducerRecord<>(topic, p, s.getImageId() + "#" + s.getVariant(), s));
        }
        if (abortLast && from + perTransaction >= samples.size()) {
          producer.abortTransaction();
        } else {
          producer.commitTransaction();
        }
      }
    }
  }

  /** Publishes in list order, keyed by image id (so one image's samples share a partition). */
  public static void publish(String topic, List<Sample> samples) throws Exception {
    publish(bootstrap(), topic, samples);
  }

  /** The same, to the broker at {@code bootstrap}. */
  public static void publish(String bootstrap, String topic, List<Sample> samples) throws Exception {
    try (KafkaProducer<String, Sample> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.ACKS_CONFIG, "all",
        ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 600_000, ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 300_000,
        ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 4 * 1024 * 1024), new StringSerializer(), RecordSerdes.sample())) {
      List<java.util.concurrent.Future<org.apache.kafka.clients.producer.RecordMetadata>> sent = new ArrayList<>();
      for (Sample s : samples) {
        sent.add(producer.send(new ProducerRecord<>(topic, s.getImageId(), s)));
      }
      for (var f : sent) {
        f.get(); // a record that did not reach the broker fails the test here, not as a missing sample later
      }
    }
  }

  public static void publishStats(String topic, Stats stats) throws Exception {
    publishStats(bootstrap(), topic, stats);
  }

  /** The same, to the broker at {@code bootstrap}. */
  public static void publishStats(String bootstrap, String topic, Stats stats) throws Exception {
    try (KafkaProducer<String, Stats> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.ACKS_CONFIG, "all",
        ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 8 * 1024 * 1024), new StringSerializer(), RecordSerdes.stats())) {
      producer.send(new ProducerRecord<>(topic, "stats", stats)).get();
    }
  }

  /** A tiny synthetic sample: imageSize 8, crop 4, pixel values derived from the index. */
  public static Sample synthetic(String imageId, int classIndex, int index) {
    return synthetic(imageId, classIndex, index, 0);
  }

  /** The same, as variant {@code variant} of its image. */
  public static Sample synthetic(String imageId, int classIndex, int index, int variant) {
    byte[] px = new byte[4 * 4 * 3];
    Arrays.fill(px, (byte) index);
    return Sample.newBuilder().setImageId(imageId).setClassIndex(classIndex).setImageSize(8).setCropSize(4)
        .setCropX(0).setCropY(0).setMirrored(false).setLighting(List.of(0f, 0f, 0f)).setVariant(variant).setViews(1)
        .setPixels(ByteBuffer.wrap(px)).build();
  }

}
