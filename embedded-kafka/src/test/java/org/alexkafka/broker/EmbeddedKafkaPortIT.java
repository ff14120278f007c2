package org.alexkafka.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ServerSocket;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `alexkafka broker --port`: the broker takes the port asked for, and says so when it is taken. */
class EmbeddedKafkaPortIT {

  @Test
  void listensOnThePortAskedForAndRefusesATakenOneClearly(@TempDir Path dir) throws Exception {
    int port;
    try (ServerSocket probe = new ServerSocket(0)) {
      port = probe.getLocalPort();
    }
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(dir.resolve("a"), port)) {
      assertThat(broker.bootstrapServers()).isEqualTo("127.0.0.1:" + port);
      assertThatThrownBy(() -> EmbeddedKafkaBroker.start(dir.resolve("b"), port))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("port " + port + " on 127.0.0.1 is taken");
    }
  }
}
