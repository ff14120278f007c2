package org.alexkafka.pipeline.cli;

import java.util.List;
import java.util.concurrent.Callable;
import org.alexkafka.schemas.config.KafkaConnection;
import org.alexkafka.schemas.config.KafkaOptions;
import org.alexkafka.schemas.topics.TopicSpec;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Creates the pipeline's topics on any cluster; existing ones are left alone (idempotent). */
@Command(name = "topics", mixinStandardHelpOptions = true,
    description = "Create the pipeline's topics (idempotent: existing topics are left as they are).")
final class TopicsCommand implements Callable<Integer> {

  @Mixin
  KafkaOptions kafka;

  @Option(names = "--replication-factor", defaultValue = "${env:REPLICATION_FACTOR:-1}",
      description = "Replication factor of new topics (env REPLICATION_FACTOR, default ${DEFAULT-VALUE}).")
  short replicationFactor;

  @Override
  public Integer call() throws Exception {
    KafkaConnection connection = kafka.toConnection();
    try (Admin admin = Admin.create(connection.clientProperties())) {
      List<String> created = connection.topics().createAll(admin, replicationFactor);
      for (TopicSpec spec : connection.topics().all()) {
        System.out.printf("%-8s %-28s partitions=%d %s%n", created.contains(spec.name()) ? "created" : "exists",
            spec.name(), spec.partitions(), spec.configs());
      }
    }
    return 0;
  }
}
