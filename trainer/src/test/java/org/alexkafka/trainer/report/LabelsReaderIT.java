package org.alexkafka.trainer.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import org.alexkafka.broker.SharedKafka;
import org.alexkafka.schemas.LabelEntry;
import org.alexkafka.schemas.config.KafkaConnection;
import org.alexkafka.schemas.serde.RecordSerdes;
import org.alexkafka.schemas.topics.Topics;
import org.alexkafka.trainer.support.TestData;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class LabelsReaderIT {

  @Test
  void readsTheNewestNameOfEveryClassFromTheLabelsTopic() throws Exception {
    Topics topics = TestData.freshTopics("labels-reader");
    try (KafkaProducer<String, LabelEntry> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, TestData.bootstrap(), ProducerConfig.ACKS_CONFIG, "all"),
        new StringSerializer(), RecordSerdes.labelEntry())) {
      // ingest first saw n03028079 without --synsets, then with them: the newer entry wins
      producer.send(new ProducerRecord<>(topics.labels(), "n03028079", new LabelEntry("n03028079", 0, ""))).get();
      producer.send(new ProducerRecord<>(topics.labels(), "n01440764", new LabelEntry("n01440764", 1, "tench, Tinca tinca"))).get();
      producer.send(new ProducerRecord<>(topics.labels(), "n03028079",
          new LabelEntry("n03028079", 0, "church, church building"))).get();
      producer.send(new ProducerRecord<>(topics.labels(), "n03000684", new LabelEntry("n03000684", 2, ""))).get();
    }

    ClassNames names = LabelsReader.read(new KafkaConnection(TestData.bootstrap(), topics), Duration.ofSeconds(30));

    assertThat(names.size()).isEqualTo(3);
    assertThat(names.display(0, "x")).isEqualTo("church (n03028079)");
    assertThat(names.display(1, "x")).isEqualTo("tench (n01440764)");
    assertThat(names.display(2, "x")).isEqualTo("n03000684");
  }

  @Test
  void noLabelsTopicGivesNoNamesAndDoesNotCreateIt() throws Exception {
    Topics topics = SharedKafka.freshTopics("labels-missing"); // not created

    ClassNames names = LabelsReader.read(new KafkaConnection(TestData.bootstrap(), topics), Duration.ofSeconds(5));

    assertThat(names.size()).isZero();
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, TestData.bootstrap()))) {
      assertThat(admin.listTopics().names().get()).doesNotContain(topics.labels());
    }
  }
}
