package org.alexkafka.schemas.topics;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * The one registry of topic names and topic settings. A prefix lets several pipelines (or test
 * classes) share one cluster: prefix "t1." gives "t1.images", "t1.samples.train", ...
 */
public record Topics(String prefix) {

  /** Kafka's own default for max.message.bytes. */
  public static final int DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;
  /** Room for a 256x256x3 image (196 KB) with headroom for larger scaled set-ups. */
  public static final int IMAGE_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
  /** The stats record carries the mean image as 196,608 varint sums (~1 MB). */
  public static final int STATS_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

  public static final Topics DEFAULT = new Topics("");

  public Topics {
    prefix = prefix == null ? "" : prefix;
  }

  public String images() {
    return prefix + "images";
  }

  /** Compacted index of the published image ids (ImageRef): ingest's start-up reads it instead of the images. */
  public String imagesIds() {
    return prefix + "images.ids";
  }

  public String imagesRejected() {
    return prefix + "images.rejected";
  }

  public String labels() {
    return prefix + "labels";
  }

  public String samplesTrain() {
    return prefix + "samples.train";
  }

  public String samplesVal() {
    return prefix + "samples.val";
  }

  public String stats() {
    return prefix + "stats";
  }

  /** Every topic of the data contracts with its settings. */
  public List<TopicSpec> all() {
    String maxImage = String.valueOf(IMAGE_MAX_MESSAGE_BYTES);
    return List.of(
        new TopicSpec(images(), 4, Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, maxImage)),
        new TopicSpec(imagesIds(), 1, Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)),
        new TopicSpec(imagesRejected(), 1, Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, maxImage)),
        new TopicSpec(labels(), 1, Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)),
        new TopicSpec(samplesTrain(), 8, Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, maxImage)),
        new TopicSpec(samplesVal(), 4, Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, maxImage)),
        new TopicSpec(stats(), 1, Map.of(
            TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
            TopicConfig.MAX_MESSAGE_BYTES_CONFIG, String.valueOf(STATS_MAX_MESSAGE_BYTES))));
  }

  public TopicSpec spec(String name) {
    return all().stream().filter(t -> t.name().equals(name)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("not a registered topic: " + name));
  }

  /**
   * Creates every topic that does not exist yet; existing topics are left as they are, so this is
   * safe to run at every start. Returns the names it created.
   */
  public List<String> createAll(Admin admin, short replicationFactor) throws InterruptedException {
    List<String> created = new ArrayList<>();
    for (TopicSpec spec : all()) {
      NewTopic topic = spec.toNewTopic(replicationFactor);
      try {
        admin.createTopics(List.of(topic)).all().get();
        created.add(spec.name());
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw new IllegalStateException("could not create topic " + spec.name() + ": " + e.getCause().getMessage(), e.getCause());
        }
      }
    }
    awaitVisible(admin, all().stream().map(TopicSpec::name).toList());
    return created;
  }

  /**
   * Waits until the broker serves every topic with a leader for each partition: creation returns
   * once the controller has the topic, a moment before the broker answers for it.
   */
  private static void awaitVisible(Admin admin, List<String> names) throws InterruptedException {
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try {
        var described = admin.describeTopics(names).allTopicNames().get();
        boolean led = described.values().stream()
            .allMatch(d -> d.partitions().stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty()));
        if (led) {
          return;
        }
      } catch (ExecutionException notYet) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("topics not available 30 s after creation: " + notYet.getCause().getMessage(), notYet.getCause());
        }
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("topics have no leader 30 s after creation: " + names);
      }
      Thread.sleep(100);
    }
  }
}
