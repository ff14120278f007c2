package org.alexkafka.broker;

import java.util.UUID;
import org.alexkafka.schemas.topics.Topics;

/**
 * One embedded broker per JVM, started on first use and stopped at exit: starting one takes
 * several seconds, so a test suite shares it and each test class works in its own topic prefix.
 */
public final class SharedKafka {

  private static EmbeddedKafkaBroker broker;

  private SharedKafka() {}

  public static synchronized EmbeddedKafkaBroker broker() {
    if (broker == null) {
      broker = EmbeddedKafkaBroker.start();
      Runtime.getRuntime().addShutdownHook(new Thread(broker::close, "embedded-kafka-shutdown"));
    }
    return broker;
  }

  /** A fresh set of topic names no other caller uses, e.g. "it-3f2a9c1e.images". */
  public static Topics freshTopics(String purpose) {
    return new Topics(purpose + "-" + UUID.randomUUID().toString().substring(0, 8) + ".");
  }
}
