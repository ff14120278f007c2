package org.alexkafka.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.alexkafka.broker.EmbeddedKafkaBroker.ScramUser;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * {@link EmbeddedKafkaBroker#stop()} and {@link EmbeddedKafkaBroker#restart()}: the broker comes
 * back on the same log directory and the same ports (PLAINTEXT and SASL), with its data and its
 * SCRAM user, and a producer that kept retrying through the outage delivers, once.
 */
class EmbeddedKafkaRestartIT {

  private static final String TOPIC = "restart-in-place";

  @Test
  void stopAndRestartKeepAddressesDataAndTheScramUser() throws Exception {
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.startWithScram(new ScramUser("bob", "bob-secret"))) {
      String plain = broker.bootstrapServers();
      String sasl = broker.saslBootstrapServers();
      try (Admin admin = Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, plain))) {
        admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
      }
      Map<String, Object> producerProps = new HashMap<>(Map.of(
          ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, plain,
          ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
          ProducerConfig.ACKS_CONFIG, "all",
          ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000,
          ProducerConfig.MAX_BLOCK_MS_CONFIG, 120_000));
      try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps, new StringSerializer(),
          new StringSerializer())) {
        producer.send(new ProducerRecord<>(TOPIC, "before", "1")).get(30, TimeUnit.SECONDS);

        broker.stop();
        assertThat(broker.isRunning()).isFalse();
        assertThat(broker.logDir()).as("stop keeps the data, even of a temporary broker").isDirectory();
        // send() itself may wait for metadata (max.block.ms) while the broker is down: not on this thread
        CompletableFuture<RecordMetadata> during = CompletableFuture.supplyAsync(() -> {
          try {
            return producer.send(new ProducerRecord<>(TOPIC, "during", "2")).get();
          } catch (Exception e) {
            throw new CompletionException(e);
          }
        });
        Thread.sleep(1500);
        assertThat(during).as("nowhere to deliver while the broker is down").isNotDone();

        broker.restart();
        assertThat(broker.isRunning()).isTrue();
        assertThat(broker.bootstrapServers()).isEqualTo(plain);
        assertThat(broker.saslBootstrapServers()).isEqualTo(sasl);
        assertThat(during.get(60, TimeUnit.SECONDS).offset()).isEqualTo(1);
        assertThatThrownBy(broker::restart).isInstanceOf(IllegalStateException.class).hasMessageContaining("running");
      }

      // the SCRAM user lives in the metadata log: it still logs in on the same SASL port
      Map<String, Object> consumerProps = new HashMap<>(EmbeddedKafkaBroker.scramClientSettings("bob", "bob-secret"));
      consumerProps.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, sasl);
      consumerProps.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
      List<String> keys = new ArrayList<>();
      try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerProps, new StringDeserializer(),
          new StringDeserializer())) {
        TopicPartition p = new TopicPartition(TOPIC, 0);
        consumer.assign(List.of(p));
        consumer.seekToBeginning(List.of(p));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (keys.size() < 2 && System.nanoTime() < deadline) {
          for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
            keys.add(r.key());
          }
        }
      }
      assertThat(keys).containsExactly("before", "during");
    }
  }

  @Test
  void aClosedBrokerCannotBeRestarted() {
    EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start();
    broker.close();
    assertThat(broker.isRunning()).isFalse();
    assertThatThrownBy(broker::restart).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
  }
}
