package org.alexkafka.trainer.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.alexkafka.trainer.engine.Engine;
import org.alexkafka.trainer.engine.ParameterLayout;
import org.alexkafka.trainer.engine.Tensor;
import org.alexkafka.trainer.engine.Tensors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checkpoints as directories {@code ckpt-<iteration>/} holding {@code parameters.npz} and {@code
 * momentum.npz} (every tensor of {@link ParameterLayout} by name: engine-neutral, and readable by
 * {@code numpy.load}) and {@code state.json} ({@link CheckpointState}, with the configuration). A checkpoint
 * is written into a hidden temporary directory, flushed, then renamed into place in one atomic
 * move, so a crash never leaves a half-written checkpoint under a checkpoint's name.
 */
public final class CheckpointStore {

  private static final Logger log = LoggerFactory.getLogger(CheckpointStore.class);
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final String PREFIX = "ckpt-";
  /** Where a save writes before its rename; one left behind is a save that crashed. */
  static final String WRITING_PREFIX = ".writing-";

  static final String PARAMETERS = "parameters.npz";
  static final String MOMENTUM = "momentum.npz";
  static final String STATE = "state.json";

  /** A checkpoint read back: parameters and momentum in {@link ParameterLayout}. */
  public record Loaded(Path dir, Tensors parameters, Tensors momentum, CheckpointState state) {
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

  public Path save(Engine engine, CheckpointState state) {
    try {
      Files.createDirectories(root);
      deleteUnfinishedSaves();
      Path target = root.resolve(String.format("%s%010d", PREFIX, state.iteration()));
      Path tmp = Files.createTempDirectory(root, WRITING_PREFIX);
      writeTensors(tmp.resolve(PARAMETERS), engine.parameters());
      writeTensors(tmp.resolve(MOMENTUM), engine.momentum());
      JSON.writeValue(tmp.resolve(STATE).toFile(), state);
      fsync(tmp);
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
          .filter(p -> Files.exists(p.resolve(STATE)) && Files.exists(p.resolve(PARAMETERS)) && Files.exists(p.resolve(MOMENTUM)))
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
    if (!Files.exists(dir.resolve(STATE))) {
      dir = new CheckpointStore(dirOrRoot, 1).latest()
          .orElseThrow(() -> new IllegalArgumentException("no checkpoint in " + dirOrRoot));
    }
    try {
      var tree = JSON.readTree(dir.resolve(STATE).toFile());
      int format = tree.path("formatVersion").asInt(-1);
      if (format != CheckpointState.FORMAT_VERSION) { // checked first: older formats have other fields
        throw new IllegalArgumentException("checkpoint " + dir + " has format " + format + ", this trainer reads "
            + CheckpointState.FORMAT_VERSION + "; train with --from-beginning or another checkpoint directory");
      }
      CheckpointState state = JSON.treeToValue(tree, CheckpointState.class);
      var spec = state.config().spec();
      Tensors parameters = readTensors(dir.resolve(PARAMETERS)).checkFits(spec);
      Tensors momentum = readTensors(dir.resolve(MOMENTUM)).checkFits(spec);
      return new Loaded(dir, parameters, momentum, state);
    } catch (IOException e) {
      throw new UncheckedIOException("could not read checkpoint " + dir, e);
    }
  }

  private static void writeTensors(Path file, Tensors tensors) throws IOException {
    Map<String, Npy.Array> arrays = new LinkedHashMap<>();
    tensors.byName().forEach((name, t) -> arrays.put(name, Npy.ofFloats(t.data(), t.shape())));
    Npz.write(file, arrays);
  }

  private static Tensors readTensors(Path file) throws IOException {
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (Map.Entry<String, Npy.Array> e : Npz.read(file).entrySet()) {
      if (!e.getValue().descr().equals(Npy.FLOAT32)) {
        throw new IOException(file + ": " + e.getKey() + " is " + e.getValue().descr() + ", not float32");
      }
      out.put(e.getKey(), new Tensor(e.getValue().shape(), e.getValue().floats()));
    }
    return new Tensors(out);
  }

  /** Flushes the files of a finished save to disk before its rename makes it visible. */
  private static void fsync(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.toList()) {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
          ch.force(true);
        }
      }
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
