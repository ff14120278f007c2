package org.alexkafka.ingest.source;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.alexkafka.schemas.Split;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watch mode: polls the tree every interval and hands over each new file once it is complete, i.e.
 * once its size and modification time are the same on two polls in a row (a file being copied or
 * uploaded keeps changing). Polling rather than inotify: it sees every subfolder, new ones
 * included, and works on network and container-mounted folders.
 */
public final class FolderWatcher implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(FolderWatcher.class);

  private record Stat(long size, long modified) {}

  private final Path root;
  private final Split defaultSplit;
  private final Duration interval;
  private final Consumer<SourceFile> onReady;
  private final Consumer<Path> onMisplaced;
  private final Set<Path> handled = new HashSet<>();
  private final Map<Path, Stat> pending = new HashMap<>();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "ingest-watch");
    t.setDaemon(true);
    return t;
  });

  public FolderWatcher(Path root, Split defaultSplit, Duration interval, Consumer<SourceFile> onReady, Consumer<Path> onMisplaced) {
    this.root = root;
    this.defaultSplit = defaultSplit;
    this.interval = interval;
    this.onReady = onReady;
    this.onMisplaced = onMisplaced;
  }

  /** Files already taken care of (by the first scan): not handed over again. */
  public synchronized void markHandled(Collection<Path> files) {
    handled.addAll(files);
  }

  public void start() {
    timer.scheduleWithFixedDelay(this::pollSafely, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    log.info("watching {} for new files every {} ms", root, interval.toMillis());
  }

  private void pollSafely() {
    try {
      poll();
    } catch (RuntimeException e) {
      log.error("watching {} failed this round, trying again: {}", root, e.toString());
    }
  }

  /** One round: hands over the files that have stopped changing. */
  synchronized void poll() {
    Map<Path, Stat> now = new HashMap<>();
    try (Stream<Path> walk = Files.walk(root)) {
      walk.filter(p -> !handled.contains(p)).filter(p -> !ImageNetLayout.ignored(p)).forEach(p -> {
        try {
          BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
          if (a.isRegularFile()) {
            now.put(p, new Stat(a.size(), a.lastModifiedTime().toMillis()));
          }
        } catch (NoSuchFileException gone) {
          // deleted or renamed between listing and stat
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    } catch (IOException | UncheckedIOException e) {
      log.warn("cannot list {}: {}", root, e.toString());
      return;
    }
    for (Map.Entry<Path, Stat> e : now.entrySet().stream().sorted(Map.Entry.comparingByKey()).toList()) {
      Path file = e.getKey();
      Stat before = pending.put(file, e.getValue());
      if (e.getValue().equals(before)) {
        pending.remove(file);
        handled.add(file);
        ImageNetLayout.place(root, file, defaultSplit).ifPresentOrElse(onReady, () -> onMisplaced.accept(file));
      }
    }
    pending.keySet().retainAll(now.keySet());
  }

  @Override
  public void close() {
    timer.shutdownNow();
    try {
      timer.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
