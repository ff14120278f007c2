package org.alexkafka.bench.feed;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.Future;
import org.alexkafka.broker.EmbeddedKafkaBroker;
import org.alexkafka.schemas.Sample;
import org.alexkafka.schemas.config.KafkaConnection;
import org.alexkafka.schemas.serde.RecordSerdes;
import org.alexkafka.schemas.topics.SamplePartitioning;
import org.alexkafka.schemas.topics.Topics;
import org.alexkafka.trainer.data.BatchAssembler;
import org.alexkafka.trainer.data.BatchFeed;
import org.alexkafka.trainer.data.BlockReader;
import org.alexkafka.trainer.data.MeanImage;
import org.alexkafka.trainer.data.ReusingSampleDeserializer;
import org.alexkafka.trainer.data.ShuffledEpoch;
import org.alexkafka.trainer.data.TrainSample;
import org.alexkafka.trainer.engine.Batch;
import org.alexkafka.trainer.engine.Engine;
import org.alexkafka.trainer.engine.EngineKind;
import org.alexkafka.trainer.engine.Engines;
import org.alexkafka.trainer.model.AlexNetSpec;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench-feed}: how fast the trainer's input path turns {@code samples.train} into engine
 * batches, with no compute: an embedded broker holding N paper-size samples (224 crops of 256
 * images, spread over 8 partitions as augment spreads them), one epoch through the global shuffle
 * and the batch feed (the loader and the feed thread, float NCHW minus the mean image), against the
 * same reads and assembly on the caller's thread, and the feed of 8-bit crops that an engine on a
 * GPU takes (it converts them there), in turn. Then the paper network's step with and without the
 * overlap: the share of each step spent waiting for data.
 */
@Command(name = "bench-feed", mixinStandardHelpOptions = true,
    description = "Kafka -> float NCHW batches (224 crops, batch 128): img/s with and without the feed thread, and as the 8-bit "
        + "crops a GPU engine converts itself; the data wait of the paper's step with and without the overlap.")
public final class FeedBench implements Callable<Integer> {

  private static final int PARTITIONS = 8;

  @Option(names = "--samples", defaultValue = "${env:BENCH_SAMPLES:-2048}", description = "Samples in the topic (default ${DEFAULT-VALUE}).")
  int samples;

  @Option(names = "--crop", defaultValue = "${env:BENCH_CROP:-224}", description = "Crop side (default ${DEFAULT-VALUE}).")
  int crop;

  @Option(names = "--batch", defaultValue = "${env:BENCH_BATCH:-128}", description = "Batch (default ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--rounds", defaultValue = "${env:BENCH_ROUNDS:-5}",
      description = "Alternating rounds of the feed-only part, after the warm-up (default ${DEFAULT-VALUE}).")
  int rounds;

  @Option(names = "--warmup", defaultValue = "${env:BENCH_WARMUP:-20}",
      description = "Seconds of uncounted passes before the rounds (default ${DEFAULT-VALUE}).")
  int warmupSeconds;

  @Option(names = "--steps", defaultValue = "${env:BENCH_STEPS:-4}",
      description = "Paper-network steps timed with and without the overlap; 0 = skip that part (default ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--engine", defaultValue = "${env:BENCH_ENGINE:-dl4j}", description = "Engine of the step part: dl4j or torch (default ${DEFAULT-VALUE}).")
  String engine;

  /** What a pass measures. */
  private enum Kind {
    FEED_FLOATS("feed"), SAME_THREAD("same thread"), FEED_PIXELS("feed, 8-bit crops");

    final String label;

    Kind(String label) {
      this.label = label;
    }
  }

  /** One pass: how many samples in how long, and how long the consumer of the batches waited. */
  record Pass(long samples, double seconds, double waitSeconds, double stepSeconds) {
    double imagesPerSecond() {
      return samples / seconds;
    }

    double waitShare() {
      return waitSeconds / (waitSeconds + stepSeconds);
    }

    Pass plus(Pass other) {
      return new Pass(samples + other.samples, seconds + other.seconds, waitSeconds + other.waitSeconds,
          stepSeconds + other.stepSeconds);
    }
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new FeedBench()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    int image = 256;
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start()) {
      Topics topics = new Topics("bench-feed.");
      try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
        topics.createAll(admin, (short) 1);
      }
      KafkaConnection kafka = new KafkaConnection(broker.bootstrapServers(), topics);
      long t0 = System.nanoTime();
      publish(kafka, image);
      System.out.printf(Locale.ROOT, "# published %d samples of %dx%d (%.0f MB) in %.1f s%n", samples, crop, crop,
          samples * 3.0 * crop * crop / 1e6, (System.nanoTime() - t0) / 1e9);
      SplittableRandom r = new SplittableRandom(3);
      float[] meanPixels = new float[image * image * 3];
      for (int i = 0; i < meanPixels.length; i++) {
        meanPixels[i] = (float) (r.nextDouble() * 255);
      }
      MeanImage mean = new MeanImage(image, image, meanPixels);
      BatchAssembler assembler = new BatchAssembler(mean, crop, 1000);
      BatchAssembler eightBit = new BatchAssembler(mean, crop, 1000, org.alexkafka.trainer.data.BatchForm.PIXELS);

      Map<Kind, List<Pass>> passes = new java.util.EnumMap<>(Kind.class);
      // Warm-up passes, in turn, not counted, for --warmup seconds: the JIT compiles the broker's,
      // the consumers' and the fill's code and the heap grows to its working size, which takes
      // 10-20 s here (a training run goes through this once, in its first minute).
      long warmStart = System.nanoTime();
      for (int w = 0; w < Kind.values().length || System.nanoTime() - warmStart < warmupSeconds * 1_000_000_000L; w++) {
        Kind kind = Kind.values()[w % Kind.values().length];
        Pass p = pass(kafka, kind == Kind.FEED_PIXELS ? eightBit : assembler, kind != Kind.SAME_THREAD, 50 + w, null);
        System.out.printf(Locale.ROOT, "# warm-up %-20s %d samples in %.2f s: %.0f img/s%n", kind.label, p.samples(), p.seconds(),
            p.imagesPerSecond());
      }
      for (int round = 0; round < rounds; round++) {
        for (int k = 0; k < Kind.values().length; k++) { // each round starts with the next kind: none always goes first
          Kind kind = Kind.values()[(round + k) % Kind.values().length];
          Pass p = pass(kafka, kind == Kind.FEED_PIXELS ? eightBit : assembler, kind != Kind.SAME_THREAD, round + 1, null);
          passes.computeIfAbsent(kind, x -> new ArrayList<>()).add(p);
          System.out.printf(Locale.ROOT, "# round %d %-20s %d samples in %.2f s: %.0f img/s%n", round + 1, kind.label,
              p.samples(), p.seconds(), p.imagesPerSecond());
        }
      }
      List<Pass> fed = passes.get(Kind.FEED_FLOATS);
      List<Pass> inline = passes.get(Kind.SAME_THREAD);
      double pixelsRate = median(passes.get(Kind.FEED_PIXELS).stream().map(Pass::imagesPerSecond).toList());
      double feedRate = median(fed.stream().map(Pass::imagesPerSecond).toList());
      double inlineRate = median(inline.stream().map(Pass::imagesPerSecond).toList());
      StringBuilder summary = new StringBuilder(String.format(Locale.ROOT,
          "what=feed value=%.0f unit=img/s peer=same-thread peer_value=%.0f ratio=%.3f feed_8bit=%.0f feed_8bit_vs_float=%.3f "
              + "crop=%d batch=%d samples=%d rounds=%d warmup_s=%d goal_img_s=3000",
          feedRate, inlineRate, feedRate / inlineRate, pixelsRate, pixelsRate / feedRate, crop, batch, samples, rounds,
          warmupSeconds));
      if (steps > 0) {
        AlexNetSpec spec = AlexNetSpec.paper().withInputSize(crop);
        try (Engine net = Engines.create(EngineKind.parse(engine), spec, "cpu", 1)) {
          pass(kafka, assembler, false, 100, net, 1); // warm-up
          // half the steps each way, then the other half in the other order: neither side always goes first
          int half = Math.max(1, steps / 2);
          Pass withFeed = pass(kafka, assembler, true, 101, net, half);
          Pass without = pass(kafka, assembler, false, 102, net, half);
          without = without.plus(pass(kafka, assembler, false, 103, net, steps - half));
          withFeed = withFeed.plus(pass(kafka, assembler, true, 104, net, steps - half));
          System.out.printf(Locale.ROOT, "# paper step, %s engine, batch %d: with the feed %.2f s/step, data wait %.1f%%; "
                  + "same thread %.2f s/step, data wait %.1f%%%n", engine, batch, (withFeed.stepSeconds() + withFeed.waitSeconds()) / steps,
              100 * withFeed.waitShare(), (without.stepSeconds() + without.waitSeconds()) / steps, 100 * without.waitShare());
          summary.append(String.format(Locale.ROOT, " engine=%s step_s_feed=%.3f wait_share_feed=%.4f step_s_same_thread=%.3f "
                  + "wait_share_same_thread=%.4f steps=%d", engine, (withFeed.stepSeconds() + withFeed.waitSeconds()) / steps,
              withFeed.waitShare(), (without.stepSeconds() + without.waitSeconds()) / steps, without.waitShare(), steps));
        }
      }
      System.out.println(summary);
    }
    return 0;
  }

  /** Closes without a checked exception. */
  private interface Closer extends AutoCloseable {
    @Override
    void close();
  }

  private Pass pass(KafkaConnection kafka, BatchAssembler assembler, boolean useFeed, int epoch, Engine net) {
    return pass(kafka, assembler, useFeed, epoch, net, Integer.MAX_VALUE);
  }

  /** One epoch (or {@code maxBatches} batches) through the shuffle; each batch trained by {@code net} when given. */
  private Pass pass(KafkaConnection kafka, BatchAssembler assembler, boolean useFeed, int epochNumber, Engine net, int maxBatches) {
    Map<String, Object> props = kafka.clientProperties();
    props.putAll(BlockReader.consumerSettings((long) ShuffledEpoch.DEFAULT_BLOCK * (3L * crop * crop + 512)));
    List<KafkaConsumer<String, Sample>> consumers = new ArrayList<>();
    List<BlockReader> readers = new ArrayList<>();
    for (int i = 0; i < ShuffledEpoch.READERS; i++) { // as the trainer reads: several block fetches in flight
      KafkaConsumer<String, Sample> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
          new ReusingSampleDeserializer(assembler.pixelBuffers()));
      consumers.add(consumer);
      readers.add(new BlockReader(consumer, kafka.topics().samplesTrain(), assembler::problem));
    }
    try (Closer closeConsumers = () -> {
           System.out.printf(Locale.ROOT, "#   fetched %.0f MB in %.0f fetches%n", consumed(consumers, "bytes-consumed-total") / 1e6,
               consumed(consumers, "fetch-total"));
           consumers.forEach(KafkaConsumer::close);
         };
         ShuffledEpoch epoch = new ShuffledEpoch(readers, ShuffledEpoch.DEFAULT_BLOCK, 1024, 2 * batch);
         BatchFeed feed = new BatchFeed(assembler, batch, 2)) {
      long start = System.nanoTime();
      epoch.startEpoch(epochNumber, 7);
      if (useFeed) {
        feed.start(epoch);
      }
      long count = 0;
      long wait = 0;
      long compute = 0;
      for (int b = 0; b < maxBatches; b++) {
        long t0 = System.nanoTime();
        Batch data;
        boolean over;
        if (useFeed) {
          BatchFeed.Fed f = feed.next();
          data = f.batch();
          over = f.epochOver();
        } else {
          List<TrainSample> taken = epoch.take(batch);
          data = taken.isEmpty() ? null : assembler.batch(taken.stream().map(TrainSample::sample).toList());
          assembler.pixelBuffers().giveBack(taken); // as the feed does
          over = taken.size() < batch;
        }
        long t1 = System.nanoTime();
        wait += t1 - t0;
        if (data != null) {
          count += data.size();
          if (net != null) {
            net.trainStep(data, b);
            compute += System.nanoTime() - t1;
          }
          assembler.recycle(data); // as the trainer does after each step
        }
        if (over) {
          break;
        }
      }
      return new Pass(count, (System.nanoTime() - start) / 1e9, wait / 1e9, compute / 1e9);
    }
  }

  /** A consumer fetch metric summed over the readers (bytes read includes what a seek then threw away). */
  private static double consumed(List<KafkaConsumer<String, Sample>> consumers, String metric) {
    double sum = 0;
    for (KafkaConsumer<String, Sample> c : consumers) {
      for (var e : c.metrics().entrySet()) {
        if (e.getKey().group().equals("consumer-fetch-manager-metrics") && e.getKey().name().equals(metric)
            && !e.getKey().tags().containsKey("topic")) {
          sum += ((Number) e.getValue().metricValue()).doubleValue();
        }
      }
    }
    return sum;
  }

  private void publish(KafkaConnection kafka, int image) throws Exception {
    Map<String, Object> props = kafka.clientProperties();
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 4 * 1024 * 1024);
    props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    SplittableRandom r = new SplittableRandom(1);
    try (KafkaProducer<String, Sample> producer = new KafkaProducer<>(props, new StringSerializer(), RecordSerdes.sample())) {
      int partitions = producer.partitionsFor(kafka.topics().samplesTrain()).size();
      if (partitions != PARTITIONS) {
        System.out.println("# samples.train has " + partitions + " partitions");
      }
      List<Future<RecordMetadata>> sent = new ArrayList<>();
      for (int i = 0; i < samples; i++) {
        byte[] px = new byte[crop * crop * 3];
        for (int j = 0; j < px.length; j += 8) {
          long bits = r.nextLong();
          for (int k = 0; k < 8 && j + k < px.length; k++) {
            px[j + k] = (byte) (bits >>> (8 * k));
          }
        }
        String id = "img-" + (i / 8);
        int variant = i % 8;
        Sample s = Sample.newBuilder().setImageId(id).setClassIndex(i / 8 % 1000).setLabel("c" + (i / 8 % 1000))
            .setImageSize(image).setCropSize(crop).setCropX(r.nextInt(image - crop + 1)).setCropY(r.nextInt(image - crop + 1))
            .setMirrored(r.nextBoolean()).setLighting(List.of(0.5f, -0.5f, 1f)).setVariant(variant).setViews(1)
            .setPixels(ByteBuffer.wrap(px)).build();
        sent.add(producer.send(new ProducerRecord<>(kafka.topics().samplesTrain(),
            SamplePartitioning.partitionOf(id, variant, partitions), id + "#" + variant, s)));
      }
      for (Future<RecordMetadata> f : sent) {
        f.get();
      }
    }
  }

  private static double median(List<Double> values) {
    List<Double> v = new ArrayList<>(values);
    v.sort(Double::compare);
    return v.size() % 2 == 1 ? v.get(v.size() / 2) : (v.get(v.size() / 2 - 1) + v.get(v.size() / 2)) / 2;
  }
}
