package org.alexkafka.trainer.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The git commit a run was started from, for the report's settings: {@code $GIT_COMMIT} when set
 * (a container image has no .git; its build can pass the commit in), else {@code git rev-parse
 * HEAD} in the working directory, else "unknown". Never fails and never waits long.
 */
public final class GitCommit {

  public static final String UNKNOWN = "unknown";

  private GitCommit() {}

  public static String find(Path dir) {
    String fromEnv = System.getenv("GIT_COMMIT");
    if (fromEnv != null && !fromEnv.isBlank()) {
      return fromEnv.trim();
    }
    return revParse(dir);
  }

  /** {@code git rev-parse HEAD} in {@code dir}, or "unknown" (no git, not a repository, too slow). */
  static String revParse(Path dir) {
    try {
      Process git = new ProcessBuilder("git", "rev-parse", "HEAD").directory(dir.toAbsolutePath().toFile())
          .redirectErrorStream(true).start();
      git.getOutputStream().close();
      if (!git.waitFor(3, TimeUnit.SECONDS)) {
        git.destroyForcibly();
        return UNKNOWN;
      }
      String out = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      return git.exitValue() == 0 && out.matches("[0-9a-f]{40}([0-9a-f]{24})?") ? out : UNKNOWN;
    } catch (IOException e) {
      return UNKNOWN;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return UNKNOWN;
    }
  }
}
