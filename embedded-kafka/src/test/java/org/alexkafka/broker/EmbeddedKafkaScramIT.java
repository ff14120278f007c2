package org.alexkafka.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.alexkafka.broker.EmbeddedKafkaBroker.ScramUser;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The broker's SASL_PLAINTEXT listener: the SCRAM user gets in, a wrong password is refused at once. */
class EmbeddedKafkaScramIT {

  private static EmbeddedKafkaBroker broker;

  @BeforeAll
  static void start() {
    broker = EmbeddedKafkaBroker.startWithScram(new ScramUser("alice", "alice-secret"));
  }

  @AfterAll
  static void stop() {
    broker.close();
  }

  private static Map<String, Object> client(String user, String password) {
    Map<String, Object> props = new HashMap<>(EmbeddedKafkaBroker.scramClientSettings(user, password));
    props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, broker.saslBootstrapServers());
    return props;
  }

  @Test
  void listensOnLoopbackBesidesPlaintext() {
    assertThat(broker.saslBootstrapServers()).startsWith("127.0.0.1:").isNotEqualTo(broker.bootstrapServers());
    assertThat(broker.bootstrapServers()).startsWith("127.0.0.1:");
  }

  @Test
  void theScramUserCreatesATopicAndARecordRoundTrips() throws Exception {
    try (Admin admin = Admin.create(client("alice", "alice-secret"))) {
      admin.createTopics(List.of(new NewTopic("scram-round-trip", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
    }
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(client("alice", "alice-secret"), new StringSerializer(),
        new StringSerializer())) {
      producer.send(new ProducerRecord<>("scram-round-trip", "k", "over SCRAM")).get(30, TimeUnit.SECONDS);
    }
    Map<String, Object> consumerProps = client("alice", "alice-secret");
    consumerProps.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerProps, new StringDeserializer(),
        new StringDeserializer())) {
      TopicPartition p = new TopicPartition("scram-round-trip", 0);
      consumer.assign(List.of(p));
      consumer.seekToBeginning(List.of(p));
      ConsumerRecords<String, String> records = ConsumerRecords.empty();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (records.isEmpty() && System.nanoTime() < deadline) {
        records = consumer.poll(Duration.ofMillis(500));
      }
      assertThat(records.records(p)).singleElement().satisfies(r -> assertThat(r.value()).isEqualTo("over SCRAM"));
    }
  }

  @Test
  void aWrongPasswordIsRefusedPromptly() {
    long started = System.nanoTime();
    try (Admin admin = Admin.create(client("alice", "wrong"))) {
      assertThatThrownBy(() -> admin.listTopics().names().get(60, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .cause().isInstanceOf(SaslAuthenticationException.class)
          .hasMessageContaining("invalid credentials").hasMessageContaining(EmbeddedKafkaBroker.SCRAM_MECHANISM);
    }
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(20));
  }

  @Test
  void anUnknownUserIsRefused() {
    try (Admin admin = Admin.create(client("mallory", "alice-secret"))) {
      assertThatThrownBy(() -> admin.listTopics().names().get(60, TimeUnit.SECONDS))
          .cause().isInstanceOf(SaslAuthenticationException.class);
    }
  }
}
