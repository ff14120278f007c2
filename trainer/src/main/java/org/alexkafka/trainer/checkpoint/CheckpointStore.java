package org.alexkafka.trainer.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.alexkafka.trainer.speed.LayerHelpers;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checkpoints as directories {@code ckpt-<iteration>/} holding {@code model.zip} (DL4J: parameters,
 * configuration and updater state) and {@code state.json} ({@link CheckpointState}). A checkpoint
 * is written into a hidden temporary directory, flushed, then renamed into place in one atomic
 * move, so a crash never leaves a half-written checkpoint under a checkpoint's name.
 */
public final class CheckpointStore {

  private static final Logger log = LoggerFactory.getLogger(CheckpointStore.class);
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final String PREFIX = "ckpt-";
  /** Where a save writes before its rename; one left behind is a save that crashed. */
  static final String WRITING_PREFIX = ".writing-";

  /** A checkpoint read back. */
  public record Loaded(Path dir, ComputationGraph net, CheckpointState state) {
  }

  private final Path root;
  private final int keep;

  public CheckpointStore(Path root, int keep) {
    this.root = root;
    this.keep = Math.max(1, keep);
  }

  public Path root() {
    return root;
  }

  public Path save(ComputationGraph net, CheckpointState state) {
    try {
      Files.createDirectories(root);
      deleteUnfinishedSaves();
      Path target = root.resolve(String.format("%s%010d", PREFIX, state.iteration()));
      Path tmp = Files.createTempDirectory(root, WRITING_PREFIX);
      ModelSerializer.writeModel(net, tmp.resolve("model.zip").toFile(), true);
      JSON.writeValue(tmp.resolve("state.json").toFile(), state);
      if (Files.exists(target)) {
        deleteTree(target); // the same iteration saved again (e.g. the end of a run right after a periodic one)
      }
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        throw new IOException("the checkpoint directory's file system cannot rename atomically: " + root, e);
      }
      log.info("checkpoint {} (epoch {}, iteration {}, lr {})", target, state.epoch(), state.iteration(), state.learningRate());
      prune();
      return target;
    } catch (IOException e) {
      throw new UncheckedIOException("could not write checkpoint in " + root, e);
    }
  }

  /** Checkpoint directories, oldest first. */
  public List<Path> list() {
    if (!Files.isDirectory(root)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(root)) {
      return s.filter(p -> p.getFileName().toString().startsWith(PREFIX))
          .filter(p -> Files.exists(p.resolve("state.json")) && Files.exists(p.resolve("model.zip")))
          .sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public Optional<Path> latest() {
    List<Path> all = list();
    return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
  }

  /** Reads a checkpoint directory (or the newest checkpoint in a checkpoint root). */
  public static Loaded load(Path dirOrRoot) {
    Path dir = dirOrRoot;
    if (!Files.exists(dir.resolve("state.json"))) {
      dir = new CheckpointStore(dirOrRoot, 1).latest()
          .orElseThrow(() -> new IllegalArgumentException("no checkpoint in " + dirOrRoot));
    }
    try {
      var tree = JSON.readTree(dir.resolve("state.json").toFile());
      int format = tree.path("formatVersion").asInt(-1);
      if (format != CheckpointState.FORMAT_VERSION) { // checked first: older formats have other fields
        throw new IllegalArgumentException("checkpoint " + dir + " has format " + format + ", this trainer reads "
            + CheckpointState.FORMAT_VERSION + "; train with --from-beginning or another checkpoint directory");
      }
      CheckpointState state = JSON.treeToValue(tree, CheckpointState.class);
      LayerHelpers.beforeBuildingNetworks();
      ComputationGraph net = ModelSerializer.restoreComputationGraph(dir.resolve("model.zip").toFile(), true);
      LayerHelpers.enable(net); // helpers are per layer instance: a restored network needs them again
      return new Loaded(dir, net, state);
    } catch (IOException e) {
      throw new UncheckedIOException("could not read checkpoint " + dir, e);
    }
  }

  /** Removes what saves that crashed left behind (a store has one writer: the trainer). */
  private void deleteUnfinishedSaves() throws IOException {
    List<Path> unfinished;
    try (Stream<Path> s = Files.list(root)) {
      unfinished = s.filter(p -> p.getFileName().toString().startsWith(WRITING_PREFIX)).toList();
    }
    for (Path p : unfinished) {
      log.warn("removing {}, left by a checkpoint save that did not finish", p);
      deleteTree(p);
    }
  }

  private void prune() throws IOException {
    List<Path> all = list();
    for (int i = 0; i < all.size() - keep; i++) {
      deleteTree(all.get(i));
    }
  }

  private static void deleteTree(Path p) throws IOException {
    try (Stream<Path> s = Files.walk(p)) {
      for (Path f : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(f);
      }
    }
  }
}
