package org.alexkafka.ingest;

import java.nio.file.Files;
import java.nio.file.Path;

/** The shared, read-only real image data: {@code shared/data} beside the repository. */
public final class TestData {

  private TestData() {}

  public static Path root() {
    Path dir = Path.of("").toAbsolutePath();
    for (Path p = dir; p != null; p = p.getParent()) {
      Path candidate = p.resolve("shared").resolve("data");
      if (Files.isDirectory(candidate.resolve("hard"))) {
        return candidate;
      }
    }
    throw new IllegalStateException("no shared/data folder above " + dir);
  }

  public static Path hard(String name) {
    return root().resolve("hard").resolve(name);
  }
}
