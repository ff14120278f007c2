package org.alexkafka.pipeline.stack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * docker-compose.yml and the Dockerfiles it builds, read as data (Jackson YAML; a small reader of
 * the Dockerfile instructions): what {@link ComposeFileTest} checks and what
 * {@link ComposeServicesAsProcessesIT} runs. Nothing here knows a service's variables by name.
 */
final class ComposeStack {

  final Path root;
  final JsonNode compose;

  private ComposeStack(Path root, JsonNode compose) {
    this.root = root;
    this.compose = compose;
  }

  static ComposeStack load() {
    Path root = Path.of("").toAbsolutePath();
    while (!Files.exists(root.resolve("docker-compose.yml"))) {
      root = root.getParent();
      if (root == null) {
        throw new IllegalStateException("no docker-compose.yml above " + Path.of("").toAbsolutePath());
      }
    }
    // -Dalexkafka.compose-file=PATH reads another compose file (its Dockerfiles still those of this repository)
    Path file = root.resolve(System.getProperty("alexkafka.compose-file", "docker-compose.yml"));
    try {
      return new ComposeStack(root, new ObjectMapper(new YAMLFactory()).readTree(file.toFile()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  JsonNode services() {
    return compose.get("services");
  }

  JsonNode service(String name) {
    JsonNode s = services().get(name);
    if (s == null) {
      throw new IllegalArgumentException("no service " + name + " in docker-compose.yml");
    }
    return s;
  }

  List<String> serviceNames() {
    List<String> names = new ArrayList<>();
    services().fieldNames().forEachRemaining(names::add);
    return names;
  }

  /** The Kafka broker: the service on the apache/kafka image. */
  String brokerService() {
    return serviceNames().stream().filter(s -> service(s).path("image").asText().startsWith("apache/kafka:")).findFirst()
        .orElseThrow(() -> new IllegalStateException("no apache/kafka service"));
  }

  /** Every service but the broker: ours, on the images this repository builds. */
  List<String> appServices() {
    String broker = brokerService();
    return serviceNames().stream().filter(s -> !s.equals(broker)).toList();
  }

  Map<String, String> environment(String service) {
    Map<String, String> env = new LinkedHashMap<>();
    service(service).path("environment").fields().forEachRemaining(e -> env.put(e.getKey(), e.getValue().asText()));
    return env;
  }

  List<String> command(String service) {
    List<String> command = new ArrayList<>();
    service(service).path("command").forEach(c -> command.add(c.asText()));
    return command;
  }

  /** depends_on: service → condition, in the file's order. */
  Map<String, String> dependsOn(String service) {
    Map<String, String> deps = new LinkedHashMap<>();
    JsonNode node = service(service).path("depends_on");
    if (node.isArray()) {
      node.forEach(d -> deps.put(d.asText(), "service_started"));
    } else {
      node.fields().forEachRemaining(e -> deps.put(e.getKey(), e.getValue().path("condition").asText("service_started")));
    }
    return deps;
  }

  /** The ports a service listens on inside its container: the container side of ports, and expose. */
  List<String> containerPorts(String service) {
    List<String> ports = new ArrayList<>();
    service(service).path("ports").forEach(p -> {
      String[] parts = p.asText().split(":");
      ports.add(parts[parts.length - 1].replaceFirst("/.*", ""));
    });
    service(service).path("expose").forEach(p -> ports.add(p.asText()));
    return ports;
  }

  /** One entry of a service's volumes (short syntax): host path or volume name, container path. */
  record Mount(String source, String target, boolean bind) {}

  List<Mount> mounts(String service) {
    List<Mount> mounts = new ArrayList<>();
    service(service).path("volumes").forEach(v -> {
      String spec = v.asText();
      // ${VAR:-default}:target[:mode]: the source may itself hold a ':'
      Matcher m = Pattern.compile("^(\\$\\{[^}]*}|[^:]+):([^:]+)(:.*)?$").matcher(spec);
      if (!m.matches()) {
        throw new IllegalArgumentException("volume " + spec + " of " + service);
      }
      String source = m.group(1);
      mounts.add(new Mount(source, m.group(2), source.startsWith("$") || source.startsWith(".") || source.startsWith("/")));
    });
    return mounts;
  }

  /** deploy.resources.limits.memory in bytes, if set. */
  OptionalLong memoryLimit(String service) {
    JsonNode limit = service(service).at("/deploy/resources/limits/memory");
    return limit.isMissingNode() ? OptionalLong.empty() : OptionalLong.of(bytes(limit.asText()));
  }

  /** The compose file's byte values (512m, 2g, 2gb) and the JVM's (-Xmx512m, 4g, 1024k): binary units. */
  static long bytes(String value) {
    Matcher m = Pattern.compile("(?i)^\\s*(\\d+)\\s*([kmgt]?)b?\\s*$").matcher(value);
    if (!m.matches()) {
      throw new IllegalArgumentException("not a byte value: " + value);
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2).toLowerCase(Locale.ROOT)) {
      case "k" -> n << 10;
      case "m" -> n << 20;
      case "g" -> n << 30;
      case "t" -> n << 40;
      default -> n;
    };
  }

  /** The last value of a JVM option in a list of JVM arguments: -Xmx (prefix "-Xmx") or -Dname= (prefix "-Dname="). */
  static Optional<String> jvmOption(List<String> jvmArgs, String prefix) {
    String found = null;
    for (String a : jvmArgs) {
      if (a.startsWith(prefix)) {
        found = a.substring(prefix.length());
      }
    }
    return Optional.ofNullable(found);
  }

  /** JAVA_TOOL_OPTIONS-style text as arguments (space separated; no quoting needed by this file). */
  static List<String> splitOptions(String options) {
    return options == null || options.isBlank() ? List.of() : List.of(options.trim().split("\\s+"));
  }

  /** The Dockerfile of the image a service runs: its own build, or that of the service that builds its image. */
  Dockerfile dockerfileOf(String service) {
    JsonNode s = service(service);
    if (!s.has("build")) {
      String image = s.path("image").asText();
      service = serviceNames().stream().filter(o -> service(o).has("build") && service(o).path("image").asText().equals(image))
          .findFirst().orElseThrow(() -> new IllegalStateException("no service builds " + image));
      s = service(service);
    }
    JsonNode build = s.get("build");
    Path context = root.resolve(build.isTextual() ? build.asText() : build.path("context").asText("."));
    String file = build.isTextual() ? "Dockerfile" : build.path("dockerfile").asText("Dockerfile");
    return Dockerfile.read(context.resolve(file).normalize());
  }

  /** The root pom's modules. */
  List<String> modules() {
    try {
      Matcher m = Pattern.compile("<module>([^<]+)</module>").matcher(Files.readString(root.resolve("pom.xml")));
      List<String> modules = new ArrayList<>();
      while (m.find()) {
        modules.add(m.group(1).trim());
      }
      return modules;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** What `java -jar alexkafka.jar` takes from the jar's manifest (pipeline/pom.xml): its main class and Add-Opens. */
  record JarManifest(String mainClass, List<String> addOpens) {}

  JarManifest distributionManifest() {
    try {
      String pom = Files.readString(root.resolve("pipeline/pom.xml"));
      Matcher main = Pattern.compile("<mainClass>([^<]+)</mainClass>").matcher(pom);
      if (!main.find()) {
        throw new IllegalStateException("no mainClass in pipeline/pom.xml");
      }
      Matcher opens = Pattern.compile("<Add-Opens>([^<]+)</Add-Opens>").matcher(pom);
      return new JarManifest(main.group(1).trim(), opens.find() ? List.of(opens.group(1).trim().split("\\s+")) : List.of());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The name a class path entry has in the distribution's lib/: a jar's own name, a module's
   * target/classes (the reactor) as "&lt;module&gt;-&lt;version&gt;.jar"; null for anything else.
   */
  static String jarName(Path entry) {
    if (entry.toString().endsWith(".jar")) {
      return entry.getFileName().toString();
    }
    if (Files.isDirectory(entry) && entry.endsWith(Path.of("target", "classes"))) {
      return entry.getParent().getParent().getFileName() + "-reactor.jar";
    }
    return null;
  }

  /** A Dockerfile's instructions (continuations joined, comments dropped), enough to check and to imitate it. */
  record Dockerfile(Path path, List<Instruction> instructions) {

    record Instruction(String keyword, String args) {}

    static Dockerfile read(Path path) {
      List<Instruction> out = new ArrayList<>();
      try {
        StringBuilder current = null;
        for (String raw : Files.readAllLines(path)) {
          String line = raw.strip();
          if (current == null && (line.isEmpty() || line.startsWith("#"))) {
            continue;
          }
          if (current != null && line.startsWith("#")) {
            continue; // a comment inside a continued instruction
          }
          boolean continued = line.endsWith("\\");
          if (continued) {
            line = line.substring(0, line.length() - 1);
          }
          current = current == null ? new StringBuilder(line) : current.append(' ').append(line);
          if (!continued) {
            String text = current.toString().strip();
            int space = text.indexOf(' ');
            out.add(new Instruction(text.substring(0, space).toUpperCase(Locale.ROOT), text.substring(space + 1).strip()));
            current = null;
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return new Dockerfile(path, out);
    }

    /** The instructions of the last stage (the image that runs), from its FROM on. */
    List<Instruction> finalStage() {
      int from = 0;
      for (int i = 0; i < instructions.size(); i++) {
        if (instructions.get(i).keyword().equals("FROM")) {
          from = i;
        }
      }
      return instructions.subList(from, instructions.size());
    }

    /** The instructions of the first stage (the build). */
    List<Instruction> buildStage() {
      int next = instructions.size();
      for (int i = 1; i < instructions.size(); i++) {
        if (instructions.get(i).keyword().equals("FROM")) {
          next = i;
          break;
        }
      }
      return instructions.subList(0, next);
    }

    String baseImage(List<Instruction> stage) {
      return stage.get(0).args().split("\\s+")[0];
    }

    /** The user the image runs as: the final stage's last USER, or null (root). */
    String user() {
      String user = null;
      for (Instruction i : finalStage()) {
        if (i.keyword().equals("USER")) {
          user = i.args();
        }
      }
      return user;
    }

    /** ENTRYPOINT in exec form. */
    List<String> entrypoint() {
      for (Instruction i : finalStage()) {
        if (i.keyword().equals("ENTRYPOINT")) {
          try {
            List<String> args = new ArrayList<>();
            for (Iterator<JsonNode> it = new ObjectMapper().readTree(i.args()).elements(); it.hasNext(); ) {
              args.add(it.next().asText());
            }
            return args;
          } catch (IOException e) {
            throw new IllegalStateException(path + ": ENTRYPOINT is not in exec form: " + i.args(), e);
          }
        }
      }
      throw new IllegalStateException(path + " has no ENTRYPOINT");
    }

    /** The entrypoint's JVM options: between "java" and "-jar". */
    List<String> jvmOptions() {
      List<String> e = entrypoint();
      int jar = e.indexOf("-jar");
      if (!e.get(0).equals("java") || jar < 0) {
        throw new IllegalStateException(path + ": ENTRYPOINT is not java ... -jar JAR: " + e);
      }
      return e.subList(1, jar);
    }

    /** The jar the entrypoint runs, and what follows it before the command (nothing, here). */
    String entrypointJar() {
      List<String> e = entrypoint();
      return e.get(e.indexOf("-jar") + 1);
    }

    /** Jar-name globs the build stage removes from the distribution's lib/ (RUN ... cd /dist/lib && rm -f GLOB.jar ...). */
    List<String> removedFromLib() {
      List<String> globs = new ArrayList<>();
      for (Instruction i : buildStage()) {
        if (!i.keyword().equals("RUN")) {
          continue;
        }
        for (String command : i.args().split("&&")) {
          String[] words = command.strip().split("\\s+");
          if (words.length > 1 && words[0].equals("rm")) {
            for (int w = 1; w < words.length; w++) {
              if (!words[w].startsWith("-") && words[w].endsWith(".jar")) {
                globs.add(words[w].replaceFirst("^/dist/lib/", ""));
              }
            }
          }
        }
      }
      return globs;
    }

    /** Whether a jar's file name matches one of {@link #removedFromLib()}. */
    boolean removesFromLib(String jarName) {
      for (String glob : removedFromLib()) {
        PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + glob);
        if (m.matches(Path.of(jarName))) {
          return true;
        }
      }
      return false;
    }
  }
}
