package org.alexkafka.broker;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Apache Kafka broker in KRaft mode (broker and controller in one node), run
 * in this JVM from the Kafka server artifacts: the storage is formatted with Kafka's own storage
 * formatter, then {@link KafkaRaftServer} is started. Listens on random loopback ports.
 *
 * <p>With a log directory given, the data survives a restart (the storage is formatted once);
 * without one, a temporary directory is used and deleted on {@link #close()}.
 *
 * <p>{@link #startWithScram} adds a SASL_PLAINTEXT listener (SCRAM-SHA-512, on 127.0.0.1 as the
 * others) next to the PLAINTEXT one, with one SCRAM user written into the storage when it is
 * formatted (as {@code kafka-storage format --add-scram} does): clients there must log in, which
 * is how the services' security settings are tested against a real broker. No authorizer: a user
 * that logged in may do everything.
 *
 * <p>{@link #stop()} and {@link #restart()} take the broker down and bring it back on the same log
 * directory and the same ports (every listener, SASL included, and the controller), as a broker
 * restarted by an operator: clients that were retrying reconnect to the address they had, and the
 * data and the SCRAM users (kept in the metadata log) are still there.
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);
  private static final int NODE_ID = 1;
  private static final String PORTS_FILE = "embedded-broker-ports";
  /** Large enough for the stats record (the mean image as sums). */
  private static final int MESSAGE_MAX_BYTES = 16 * 1024 * 1024;
  /** The mechanism of the SASL listener. */
  public static final String SCRAM_MECHANISM = "SCRAM-SHA-512";
  private static final String SASL_LISTENER = "SASL_PLAINTEXT";

  /** A user of the SASL listener and its password. */
  public record ScramUser(String name, String password) {
    public ScramUser {
      // written into the formatter's [name=..,password=..] argument: keep it unambiguous
      if (!name.matches("[A-Za-z0-9._-]+") || !password.matches("[A-Za-z0-9._-]+")) {
        throw new IllegalArgumentException("SCRAM user name and password: letters, digits, '.', '_' and '-' only");
      }
    }

    @Override
    public String toString() {
      return "ScramUser[" + name + "]";
    }
  }

  /** How long {@link #restart()} waits for the ports of the stopped broker to be free again. */
  private static final long PORT_WAIT_SECONDS = 30;

  /** Null while stopped. */
  private KafkaRaftServer server;
  private final Map<String, Object> props;
  private final Path logDir;
  private final boolean deleteOnClose;
  private final String bootstrapServers;
  private final String saslBootstrapServers;
  private boolean closed;

  private EmbeddedKafkaBroker(KafkaRaftServer server, Map<String, Object> props, Path logDir, boolean deleteOnClose,
      String bootstrapServers, String saslBootstrapServers) {
    this.server = server;
    this.props = Map.copyOf(props);
    this.logDir = logDir;
    this.deleteOnClose = deleteOnClose;
    this.bootstrapServers = bootstrapServers;
    this.saslBootstrapServers = saslBootstrapServers;
  }

  /** Starts a broker on a temporary log directory, deleted on close. */
  public static EmbeddedKafkaBroker start() {
    try {
      return start(Files.createTempDirectory("embedded-kafka-"), true);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Starts a broker whose data lives in {@code logDir} and outlives it. */
  public static EmbeddedKafkaBroker start(Path logDir) {
    return start(logDir, false, null);
  }

  /**
   * Starts a broker whose data lives in {@code logDir} on 127.0.0.1:{@code port} (0: a free port,
   * the same as last time when it is still free); fails clearly when the port is taken.
   */
  public static EmbeddedKafkaBroker start(Path logDir, int port) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("broker port must be 0..65535, got " + port);
    }
    if (port > 0) {
      if (!isFree(port)) {
        throw new IllegalStateException("port " + port + " on 127.0.0.1 is taken (another Kafka running?); stop it or "
            + "give --port another one (0 = any free port)");
      }
      try {
        Files.createDirectories(logDir);
        int controller = freePort();
        Files.writeString(logDir.resolve(PORTS_FILE), port + "," + controller);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return start(logDir, false, null);
  }

  /**
   * Starts a broker on a temporary log directory (deleted on close) with, besides PLAINTEXT, a
   * SASL_PLAINTEXT listener ({@link #saslBootstrapServers()}) where {@code user} logs in with
   * {@value #SCRAM_MECHANISM}.
   */
  public static EmbeddedKafkaBroker startWithScram(ScramUser user) {
    try {
      return start(Files.createTempDirectory("embedded-kafka-sasl-"), true, user);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static EmbeddedKafkaBroker start(Path logDir, boolean deleteOnClose) {
    return start(logDir, deleteOnClose, null);
  }

  private static EmbeddedKafkaBroker start(Path logDir, boolean deleteOnClose, ScramUser scramUser) {
    long started = System.nanoTime();
    try {
      Files.createDirectories(logDir);
      // A broker restarted on its log directory comes back at the same address, so clients that
      // were retrying (a producer while the broker was down) reconnect to it.
      int[] ports = rememberedPorts(logDir);
      int brokerPort = ports[0];
      int controllerPort = ports[1];
      Map<String, Object> props = brokerProperties(logDir, brokerPort, controllerPort);
      String saslBootstrap = null;
      if (scramUser != null) {
        int saslPort = freePort();
        saslBootstrap = "127.0.0.1:" + saslPort;
        addSaslListener(props, brokerPort, controllerPort, saslPort);
      }
      format(logDir, scramUser);
      KafkaRaftServer server = new KafkaRaftServer(new KafkaConfig(props, false), Time.SYSTEM);
      server.startup();
      String bootstrap = "127.0.0.1:" + brokerPort;
      EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(server, props, logDir, deleteOnClose, bootstrap, saslBootstrap);
      broker.awaitReady(Duration.ofSeconds(60));
      log.info("Embedded Kafka broker (KRaft) ready at {}{} in {} ms, data in {}", bootstrap,
          saslBootstrap == null ? "" : " and " + SASL_LISTENER + " " + SCRAM_MECHANISM + " at " + saslBootstrap,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), logDir);
      return broker;
    } catch (IOException e) {
      throw new UncheckedIOException("could not start the embedded Kafka broker in " + logDir, e);
    }
  }

  private static Map<String, Object> brokerProperties(Path logDir, int brokerPort, int controllerPort) {
    Map<String, Object> p = new HashMap<>();
    p.put("process.roles", "broker,controller");
    p.put("node.id", String.valueOf(NODE_ID));
    p.put("controller.quorum.voters", NODE_ID + "@127.0.0.1:" + controllerPort);
    p.put("listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
    p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
    p.put("controller.listener.names", "CONTROLLER");
    p.put("inter.broker.listener.name", "PLAINTEXT");
    p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    p.put("log.dirs", logDir.toString());
    p.put("offsets.topic.replication.factor", "1");
    p.put("offsets.topic.num.partitions", "4");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("transaction.state.log.num.partitions", "4");
    p.put("share.coordinator.state.topic.replication.factor", "1");
    p.put("share.coordinator.state.topic.min.isr", "1");
    p.put("group.initial.rebalance.delay.ms", "0");
    p.put("num.partitions", "1");
    // Topics come from the one registry (Topics); a typo must fail, not create a new topic.
    p.put("auto.create.topics.enable", "false");
    p.put("message.max.bytes", String.valueOf(MESSAGE_MAX_BYTES));
    p.put("replica.fetch.max.bytes", String.valueOf(MESSAGE_MAX_BYTES));
    p.put("log.flush.interval.messages", String.valueOf(Long.MAX_VALUE));
    return p;
  }

  /** PLAINTEXT stays the inter-broker and readiness listener; SASL_PLAINTEXT takes SCRAM logins. */
  private static void addSaslListener(Map<String, Object> p, int brokerPort, int controllerPort, int saslPort) {
    p.put("listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + "," + SASL_LISTENER + "://127.0.0.1:" + saslPort
        + ",CONTROLLER://127.0.0.1:" + controllerPort);
    p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + "," + SASL_LISTENER + "://127.0.0.1:" + saslPort);
    p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT," + SASL_LISTENER + ":SASL_PLAINTEXT,CONTROLLER:PLAINTEXT");
    String listener = "listener.name." + SASL_LISTENER.toLowerCase(java.util.Locale.ROOT) + ".";
    p.put(listener + "sasl.enabled.mechanisms", SCRAM_MECHANISM);
    p.put(listener + SCRAM_MECHANISM.toLowerCase(java.util.Locale.ROOT) + ".sasl.jaas.config",
        "org.apache.kafka.common.security.scram.ScramLoginModule required;");
    p.put("sasl.enabled.mechanisms", SCRAM_MECHANISM);
  }

  /** Formats the storage once; an already formatted directory (a restart) is left as it is. */
  private static void format(Path logDir, ScramUser scramUser) {
    if (Files.exists(logDir.resolve("meta.properties"))) {
      return;
    }
    try {
      Formatter formatter = new Formatter();
      if (scramUser != null) {
        formatter.setScramArguments(List.of(SCRAM_MECHANISM + "=[name=" + scramUser.name() + ",password=" + scramUser.password() + "]"));
      }
      formatter
          .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
          .setNodeId(NODE_ID)
          .setClusterId(Uuid.randomUuid().toString())
          .setDirectories(List.of(logDir.toString()))
          .setMetadataLogDirectory(logDir.toString())
          .setControllerListenerName("CONTROLLER")
          .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
          .setIgnoreFormatted(true)
          .run();
    } catch (Exception e) {
      throw new IllegalStateException("could not format Kafka storage in " + logDir + ": " + e.getMessage(), e);
    }
  }

  private void awaitReady(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
      while (true) {
        try {
          if (admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).stream().anyMatch(n -> n.id() == NODE_ID)) {
            return;
          }
        } catch (Exception e) {
          if (System.nanoTime() > deadline) {
            close();
            throw new IllegalStateException("embedded Kafka broker did not come up within " + timeout, e);
          }
        }
        Thread.sleep(100);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the embedded broker", e);
    }
  }

  private static int[] rememberedPorts(Path logDir) throws IOException {
    Path file = logDir.resolve(PORTS_FILE);
    if (Files.exists(file)) {
      String[] saved = Files.readString(file).strip().split(",");
      int broker = Integer.parseInt(saved[0]);
      int controller = Integer.parseInt(saved[1]);
      if (isFree(broker) && isFree(controller)) {
        return new int[] {broker, controller};
      }
      log.warn("ports {} and {} of the last run are taken: the broker moves to new ones", broker, controller);
    }
    int[] ports = {freePort(), freePort()};
    Files.writeString(file, ports[0] + "," + ports[1]);
    return ports;
  }

  private static boolean isFree(int port) {
    try (ServerSocket socket = new ServerSocket(port, 50, InetAddress.getLoopbackAddress())) {
      socket.setReuseAddress(true);
      return true;
    } catch (IOException taken) {
      return false;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    }
  }

  public String bootstrapServers() {
    return bootstrapServers;
  }

  /** The SASL_PLAINTEXT (SCRAM) listener's address; null unless started by {@link #startWithScram}. */
  public String saslBootstrapServers() {
    return saslBootstrapServers;
  }

  /** What a client needs to log in as {@code name} on the SASL listener (besides bootstrap.servers). */
  public static Map<String, String> scramClientSettings(String name, String password) {
    return Map.of(
        "security.protocol", "SASL_PLAINTEXT",
        "sasl.mechanism", SCRAM_MECHANISM,
        "sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + name
            + "\" password=\"" + password + "\";");
  }

  public Path logDir() {
    return logDir;
  }

  /** Whether the broker is up (started and not stopped or closed). */
  public synchronized boolean isRunning() {
    return server != null;
  }

  /**
   * Shuts the broker down (a controlled shutdown: logs flushed, producer state snapshotted) and
   * keeps its log directory, whatever it was started with, for {@link #restart()}. Clients see
   * the broker gone. A no-op when it is stopped already.
   */
  public synchronized void stop() {
    requireOpen();
    if (server == null) {
      return;
    }
    long started = System.nanoTime();
    server.shutdown();
    server.awaitShutdown();
    server = null;
    log.info("Embedded Kafka broker at {} stopped in {} ms (data kept in {})", bootstrapServers,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), logDir);
  }

  /**
   * Starts the stopped broker again on the same log directory and the same ports (every listener
   * and the controller) and waits until it serves requests. Fails if a port stays taken (by
   * something else) for {@value #PORT_WAIT_SECONDS} s: a restart never moves the broker.
   */
  public synchronized void restart() {
    requireOpen();
    if (server != null) {
      throw new IllegalStateException("the broker at " + bootstrapServers + " is running: stop() it first");
    }
    long started = System.nanoTime();
    awaitPortsFree();
    KafkaRaftServer again = new KafkaRaftServer(new KafkaConfig(props, false), Time.SYSTEM);
    again.startup();
    server = again;
    awaitReady(Duration.ofSeconds(60));
    log.info("Embedded Kafka broker restarted at {} in {} ms, data in {}", bootstrapServers,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), logDir);
  }

  private void awaitPortsFree() {
    List<Integer> ports = new ArrayList<>();
    ports.add(portOf(bootstrapServers));
    ports.add(portOf(String.valueOf(props.get("controller.quorum.voters")))); // "1@127.0.0.1:port"
    if (saslBootstrapServers != null) {
      ports.add(portOf(saslBootstrapServers));
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(PORT_WAIT_SECONDS);
    for (int port : ports) {
      while (!isFree(port)) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("cannot restart the embedded broker: port " + port + " is taken");
        }
        try {
          Thread.sleep(100);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while waiting for port " + port, e);
        }
      }
    }
  }

  private static int portOf(String hostPort) {
    return Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("the embedded broker at " + bootstrapServers + " is closed");
    }
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (server != null) {
      server.shutdown();
      server.awaitShutdown();
      server = null;
    }
    if (deleteOnClose) {
      deleteRecursively(logDir);
    }
    log.info("Embedded Kafka broker at {} stopped", bootstrapServers);
  }

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      log.warn("could not delete {}: {}", dir, e.getMessage());
    }
  }
}
