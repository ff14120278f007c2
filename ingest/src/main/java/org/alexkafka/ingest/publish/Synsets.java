package org.alexkafka.ingest.publish;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A fixed class order, e.g. ILSVRC's LOC_synset_mapping.txt: one class a line,
 * {@code n01440764 tench, Tinca tinca}; the line number (from 0) is the class index.
 */
public final class Synsets {

  private final Map<String, Integer> index = new HashMap<>();
  private final Map<String, String> names = new HashMap<>();
  private final int size;

  private Synsets(List<String> lines, Path source) {
    int i = 0;
    for (String raw : lines) {
      String line = raw.strip();
      if (line.isEmpty()) {
        continue;
      }
      int space = line.indexOf(' ');
      String id = space < 0 ? line : line.substring(0, space);
      String name = space < 0 ? "" : line.substring(space + 1).strip();
      if (name.startsWith(":")) {
        name = name.substring(1).strip();
      }
      if (index.putIfAbsent(id, i) != null) {
        throw new IllegalArgumentException(source + ": class " + id + " listed twice (line " + (i + 1) + ")");
      }
      names.put(id, name);
      i++;
    }
    if (i == 0) {
      throw new IllegalArgumentException(source + ": no classes in the synsets file");
    }
    size = i;
  }

  public static Synsets read(Path file) {
    try {
      return new Synsets(Files.readAllLines(file, StandardCharsets.UTF_8), file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the synsets file " + file + ": " + e.getMessage(), e);
    }
  }

  public Optional<Integer> indexOf(String classId) {
    return Optional.ofNullable(index.get(classId));
  }

  public String nameOf(String classId) {
    return names.getOrDefault(classId, "");
  }

  public int size() {
    return size;
  }
}
