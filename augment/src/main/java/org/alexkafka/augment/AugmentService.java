package org.alexkafka.augment;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import java.time.Duration;
import org.alexkafka.augment.topology.AugmentTopology;
import org.alexkafka.augment.topology.StreamsSettings;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The augment Kafka Streams application, to start and stop in-process (the all-in-one runner) or
 * from {@link org.alexkafka.augment.cli.AugmentCommand}. Topics must exist (see
 * {@code Topics.createAll}).
 */
public final class AugmentService implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(AugmentService.class);

  private final AugmentConfig config;
  private final KafkaStreams streams;
  private final KafkaStreamsMetrics streamsMetrics;

  public AugmentService(AugmentConfig config, MeterRegistry registry) {
    this.config = config;
    this.streams = new KafkaStreams(AugmentTopology.build(config, new AugmentMetrics(registry)), StreamsSettings.of(config));
    // the Streams clients' own metrics (consumer lag on images, produce rates) as Micrometer meters
    this.streamsMetrics = new KafkaStreamsMetrics(streams);
    streamsMetrics.bindTo(registry);
    // A record that fails despite the dead-letter handling (e.g. the broker is gone) replaces the
    // thread instead of killing the app; with exactly_once_v2 the failed transaction is aborted.
    streams.setUncaughtExceptionHandler(e -> {
      log.error("augment stream thread failed, replacing it", e);
      return StreamThreadExceptionResponse.REPLACE_THREAD;
    });
  }

  public void start() {
    log.info("augment starting: application.id={}, {} variants/image, {}px crops, seed {}, {}",
        config.applicationId(), config.variantsPerImage(), config.cropSize(), config.seed(), config.processingGuarantee());
    streams.start();
  }

  /** Waits until the app is RUNNING (all tasks assigned and restored). */
  public void awaitRunning(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (streams.state() != KafkaStreams.State.RUNNING) {
      if (System.nanoTime() > deadline || streams.state() == KafkaStreams.State.ERROR
          || streams.state() == KafkaStreams.State.NOT_RUNNING) {
        throw new IllegalStateException("augment did not reach RUNNING within " + timeout + ", state " + streams.state());
      }
      Thread.sleep(50);
    }
  }

  public KafkaStreams.State state() {
    return streams.state();
  }

  @Override
  public void close() {
    // Leave the group at once, so the partitions move to the other instances (or to this one
    // restarted) without waiting for the session timeout.
    streams.close(new KafkaStreams.CloseOptions().leaveGroup(true).timeout(Duration.ofSeconds(30)));
    streamsMetrics.close();
    log.info("augment stopped");
  }
}
