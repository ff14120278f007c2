package org.alexkafka.bench.learn;

import java.nio.file.Files;
import java.nio.file.Path;

final class LearnBenchTestSupport {

  private LearnBenchTestSupport() {
  }

  /** bench/learn_torch.py above the working directory, or null. */
  static Path script() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path p = dir.resolve("bench/learn_torch.py");
      if (Files.isRegularFile(p)) {
        return p;
      }
    }
    return null;
  }
}
