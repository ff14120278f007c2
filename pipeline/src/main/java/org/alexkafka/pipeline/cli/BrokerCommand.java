package org.alexkafka.pipeline.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.alexkafka.broker.EmbeddedKafkaBroker;
import org.alexkafka.schemas.topics.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Runs the embedded single-node KRaft broker on its own, with the topics created, until stopped. */
@Command(name = "broker", mixinStandardHelpOptions = true,
    description = "Run an embedded single-node Kafka broker (KRaft) with the pipeline's topics, until Ctrl-C.")
final class BrokerCommand implements Callable<Integer> {

  @Option(names = "--data-dir", defaultValue = "${env:BROKER_DATA_DIR:-data/kafka}",
      description = "Broker log directory; kept across restarts (env BROKER_DATA_DIR, default ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(names = "--port", defaultValue = "${env:BROKER_PORT:-9092}",
      description = "Port on 127.0.0.1, the one every client defaults to (env BROKER_PORT, default ${DEFAULT-VALUE}; "
          + "0 = any free port).")
  int port;

  @Option(names = "--topic-prefix", defaultValue = "${env:TOPIC_PREFIX:-}", description = "Topic name prefix (env TOPIC_PREFIX).")
  String topicPrefix;

  @Override
  public Integer call() throws Exception {
    EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(dataDir, port);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      broker.close();
      stopped.countDown();
    }));
    try (Admin admin = Admin.create(java.util.Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
      new Topics(topicPrefix).createAll(admin, (short) 1);
    }
    System.out.println("Kafka broker ready: --bootstrap-servers " + broker.bootstrapServers());
    stopped.await();
    return 0;
  }
}
