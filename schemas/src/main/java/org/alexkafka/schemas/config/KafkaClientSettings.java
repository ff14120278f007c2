package org.alexkafka.schemas.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * Kafka client settings (security and anything else a client takes) from outside the code, the same
 * way for every service:
 *
 * <ol>
 *   <li>a Java properties file, {@code --kafka-config FILE} or {@code KAFKA_CONFIG=FILE} (what Kafka's
 *       own tools take as {@code --command-config}), e.g. {@code security.protocol=SASL_SSL};
 *   <li>environment variables {@code KAFKA_CLIENT_<KEY>}, whose key is the rest of the name in lower
 *       case with {@code _} read as {@code .}: {@code KAFKA_CLIENT_SASL_JAAS_CONFIG} sets
 *       {@code sasl.jaas.config}. Any client key may be given this way; an empty value counts as unset.
 *       A variable overrides the same key of the file.
 * </ol>
 *
 * <p>{@code bootstrap.servers} may come from either, but {@code --bootstrap-servers} /
 * {@code BOOTSTRAP_SERVERS} wins when set (see {@link KafkaOptions}). The services set their own
 * settings (serializers, acks, idempotence, group ids, isolation level) on top of these.
 *
 * <p>Secrets never reach a log: {@link #masked} hides every value of a key that holds one.
 */
public final class KafkaClientSettings {

  /** Prefix of the environment variables that carry client settings. */
  public static final String ENV_PREFIX = "KAFKA_CLIENT_";
  /** What a secret is printed as. */
  public static final String HIDDEN = "[hidden]";

  private KafkaClientSettings() {}

  /** The client key an environment variable sets, e.g. {@code KAFKA_CLIENT_SASL_MECHANISM} → {@code sasl.mechanism}; null if none. */
  public static String keyOf(String variable) {
    if (!variable.startsWith(ENV_PREFIX) || variable.length() == ENV_PREFIX.length()) {
      return null;
    }
    return variable.substring(ENV_PREFIX.length()).toLowerCase(Locale.ROOT).replace('_', '.');
  }

  /** The environment variable that sets a client key, e.g. {@code sasl.jaas.config} → {@code KAFKA_CLIENT_SASL_JAAS_CONFIG}. */
  public static String variableOf(String key) {
    return ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
  }

  /** The client settings the {@code KAFKA_CLIENT_*} variables of {@code environment} carry (empty values skipped). */
  public static Map<String, String> fromEnvironment(Map<String, String> environment) {
    Map<String, String> settings = new TreeMap<>();
    environment.forEach((name, value) -> {
      String key = keyOf(name);
      if (key != null && value != null && !value.isEmpty()) {
        settings.put(key, value);
      }
    });
    return settings;
  }

  /** Reads a client properties file; a missing or unreadable file is a configuration error. */
  public static Map<String, String> read(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("--kafka-config / KAFKA_CONFIG: no such file " + file.toAbsolutePath());
    }
    Properties properties = new Properties();
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      properties.load(reader);
    } catch (IOException | IllegalArgumentException e) {
      throw new IllegalArgumentException("--kafka-config / KAFKA_CONFIG: cannot read " + file.toAbsolutePath() + ": " + e.getMessage(), e);
    }
    Map<String, String> settings = new TreeMap<>();
    properties.stringPropertyNames().forEach(key -> settings.put(key.strip(), properties.getProperty(key)));
    return settings;
  }

  /** The file's settings (none if {@code file} is null), then the environment's on top. */
  public static Map<String, String> resolve(Path file, Map<String, String> environment) {
    Map<String, String> settings = new TreeMap<>();
    if (file != null) {
      settings.putAll(read(file));
    }
    settings.putAll(fromEnvironment(environment));
    return settings;
  }

  /** Whether the value of {@code key} is a secret: JAAS configs, passwords, private keys, client secrets, tokens. */
  public static boolean isSecret(String key) {
    String k = key.toLowerCase(Locale.ROOT);
    return k.contains("jaas") || k.contains("password") || k.contains("secret") || k.endsWith(".key") || k.contains("user.info")
        || (k.contains("token") && !k.endsWith(".url") && !k.endsWith(".ms") && !k.endsWith(".file"));
  }

  /** The settings with every secret replaced by {@value #HIDDEN}: safe to log or print. */
  public static Map<String, String> masked(Map<String, ?> settings) {
    Map<String, String> safe = new TreeMap<>();
    settings.forEach((k, v) -> safe.put(k, isSecret(k) ? HIDDEN : String.valueOf(v)));
    return safe;
  }
}
