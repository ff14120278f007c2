package org.alexkafka.trainer.train;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.alexkafka.broker.EmbeddedKafkaBroker;
import org.alexkafka.schemas.Sample;
import org.alexkafka.schemas.config.KafkaConnection;
import org.alexkafka.schemas.topics.Topics;
import org.alexkafka.trainer.data.SampleRef;
import org.alexkafka.trainer.data.ShuffledEpoch;
import org.alexkafka.trainer.engine.EngineKind;
import org.alexkafka.trainer.support.TestData;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker stopped in the middle of an epoch and restarted on the same log directory and port 4 s
 * later: the trainer waits, goes on from where it was, and every epoch still trains every sample
 * exactly once (no epoch skipped, doubled or cut short).
 */
@Tag("fault")
class TrainerBrokerRestartIT {

  private static final Logger log = LoggerFactory.getLogger(TrainerBrokerRestartIT.class);
  private static final int CLASSES = 4;
  private static final int BATCH = 32;

  @TempDir
  Path tmp;

  @Test
  void aBrokerRestartMidEpochSkipsAndDoublesNothing() throws Exception {
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start()) {
      Topics topics = new Topics("trainer-restart.");
      try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
        topics.createAll(admin, (short) 1);
      }
      List<TestData.SmallImage> train = TestData.imagenette("train", CLASSES, 40, 72);
      List<Sample> samples = TestData.trainSamples(train, 72, 64, 2, 5);
      TestData.publish(broker.bootstrapServers(), topics.samplesTrain(), samples);
      TestData.publishStats(broker.bootstrapServers(), topics.stats(), TestData.stats(train, 72));

      TrainerConfig cfg = TrainerConfig.builder().profile(Profile.SMALL).classes(CLASSES).cropSize(64).batchSize(BATCH).epochs(2)
          .checkpointDir(tmp.resolve("ckpt").toString()).checkpointEvery(0).shuffleBuffer(64).seed(3)
          .runDir(tmp.resolve("run").toString()).logEvery(5).evalEachEpoch(false).statsTimeoutSeconds(60)
          .build();
      List<SampleRef> trained = java.util.Collections.synchronizedList(new ArrayList<>());
      AtomicInteger batches = new AtomicInteger();
      CompletableFuture<Long> outage = new CompletableFuture<>();
      try (Trainer trainer = new Trainer(cfg, new KafkaConnection(broker.bootstrapServers(), topics), new SimpleMeterRegistry())) {
        trainer.onBatchTrained(refs -> {
          trained.addAll(refs);
          if (batches.incrementAndGet() == 3) { // mid-epoch 1: the feed holds a batch or two, the rest is still in Kafka
            broker.stop();
            CompletableFuture.runAsync(() -> {
              long t0 = System.nanoTime();
              try {
                Thread.sleep(4000);
                broker.restart();
                outage.complete((System.nanoTime() - t0) / 1_000_000);
              } catch (Exception e) {
                outage.completeExceptionally(e);
              }
            });
          }
        });
        long t0 = System.nanoTime();
        Trainer.Result r = trainer.run();
        long ms = (System.nanoTime() - t0) / 1_000_000;
        int perEpoch = samples.size() / BATCH;
        assertThat(outage.get()).as("the broker came back").isPositive();
        assertThat(r.ended()).isEqualTo(RunEnd.EPOCHS_DONE);
        assertThat(r.iteration()).isEqualTo(2L * perEpoch);
        assertThat(r.samplesTrained()).isEqualTo(2L * samples.size());
        assertThat(trained).hasSize(2 * samples.size());
        for (List<SampleRef> epoch : List.of(trained.subList(0, samples.size()), trained.subList(samples.size(), trained.size()))) {
          assertThat(new HashSet<>(epoch)).as("every sample once per epoch").hasSize(samples.size());
        }
        log.info("broker down {} ms in epoch 1 (after batch 3); 2 epochs of {} samples trained in {} ms, each exactly once",
            outage.get(), samples.size(), ms);
      }
    }
  }
}
