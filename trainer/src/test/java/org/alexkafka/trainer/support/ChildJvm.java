package org.alexkafka.trainer.support;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A main class of the test class path in a JVM of its own, and the signals a fault test sends it. */
public final class ChildJvm {

  private ChildJvm() {
  }

  /** {@code java ... mainClass args} with this JVM's class path and native cache; {@code -D} settings before the class. */
  public static List<String> command(Class<?> mainClass, List<String> systemProperties, List<String> args) {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx1g", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
        "-Dorg.bytedeco.javacpp.cachedir=" + System.getProperty("org.bytedeco.javacpp.cachedir", "")));
    systemProperties.forEach(p -> cmd.add("-D" + p));
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass.getName()));
    cmd.addAll(args);
    return cmd;
  }

  /** Starts {@code cmd}, stdout and stderr into {@code log}. */
  public static Process start(List<String> cmd, Path log) throws IOException {
    return start(cmd, log, java.util.Map.of("OMP_NUM_THREADS", "2"));
  }

  /** Starts {@code cmd} with {@code env} added to this JVM's environment, stdout and stderr into {@code log}. */
  public static Process start(List<String> cmd, Path log, java.util.Map<String, String> env) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().putAll(env);
    return pb.start();
  }

  public static int waitFor(Process p, Path log, int seconds) throws Exception {
    if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("the child JVM did not end within " + seconds + " s:\n" + tail(log));
    }
    return p.exitValue();
  }

  public static String tail(Path log) throws IOException {
    if (!Files.exists(log)) {
      return "(no log)";
    }
    List<String> lines = Files.readAllLines(log);
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
  }

  /**
   * Sends signals without a fork per signal: a shell that waits on its input and runs its built-in
   * {@code kill}, so that SIGSTOP lands within a millisecond of being asked for.
   */
  public static final class Signaller implements AutoCloseable {

    private final Process shell;
    private final Writer in;
    private final BufferedReader out;

    public Signaller() throws IOException {
      shell = new ProcessBuilder("bash", "-c", "while read -r sig pid; do kill -s \"$sig\" \"$pid\" && echo ok || echo failed; done")
          .redirectErrorStream(true).start();
      in = new java.io.OutputStreamWriter(shell.getOutputStream(), StandardCharsets.US_ASCII);
      out = new BufferedReader(new InputStreamReader(shell.getInputStream(), StandardCharsets.US_ASCII));
    }

    public void send(String signal, Process p) throws IOException {
      in.write(signal + " " + p.pid() + "\n");
      in.flush();
      String answer = out.readLine();
      if (!"ok".equals(answer)) {
        throw new IOException("kill -s " + signal + " " + p.pid() + ": " + answer);
      }
    }

    /** SIGSTOP, returning once the process is stopped (state T in /proc). */
    public void stop(Process p) throws Exception {
      send("STOP", p);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!stopped(p)) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("process " + p.pid() + " did not stop");
        }
        Thread.onSpinWait();
      }
    }

    public void resume(Process p) throws IOException {
      send("CONT", p);
    }

    private static boolean stopped(Process p) throws IOException {
      String stat = Files.readString(Path.of("/proc", String.valueOf(p.pid()), "stat"));
      char state = stat.charAt(stat.lastIndexOf(')') + 2);
      return state == 'T' || state == 't';
    }

    @Override
    public void close() {
      shell.destroy();
    }
  }
}
