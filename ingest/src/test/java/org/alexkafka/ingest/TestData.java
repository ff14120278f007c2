package org.alexkafka.ingest;

import java.nio.file.Files;
import java.nio.file.Path;

/** The real image data of the project: {@code testdata/} of the repository. */
public final class TestData {

  private TestData() {}

  public static Path root() {
    Path dir = Path.of("").toAbsolutePath();
    for (Path p = dir; p != null; p = p.getParent()) {
      Path candidate = p.resolve("testdata");
      if (Files.isDirectory(candidate.resolve("hard"))) {
        return candidate;
      }
    }
    throw new IllegalStateException("no testdata folder above " + dir);
  }

  public static Path hard(String name) {
    return root().resolve("hard").resolve(name);
  }
}
