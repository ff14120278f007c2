package org.alexkafka.trainer.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
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
  /** A checkpoint moved aside while one of the same iteration takes its name (never read; put back if that fails). */
  static final String REPLACED_PREFIX = WRITING_PREFIX + "replaced-";

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

  /**
   * A save that did not happen (the disk full, the file too large, the directory gone or read-only):
   * what the OS said and where, in one line. Its partial files are removed and the checkpoints
   * already there are untouched. An {@link IllegalStateException}, so that the command line reports
   * it in one line rather than as a stack trace.
   */
  public static final class SaveFailed extends IllegalStateException {

    private final transient Path previous;
    private final long iteration;

    public SaveFailed(String message, IOException cause, long iteration, Path previous) {
      super(message, cause);
      this.iteration = iteration;
      this.previous = previous;
    }

    /** The iteration that was not saved. */
    public long iteration() {
      return iteration;
    }

    /** The newest complete checkpoint left in the directory, if any: what a restart resumes from. */
    public Optional<Path> previous() {
      return Optional.ofNullable(previous);
    }

    /** What the OS said ("No space left on device", "File too large", ...). */
    public String reason() {
      return getCause().getMessage() != null ? getCause().getMessage() : getCause().getClass().getSimpleName();
    }
  }

  /**
   * Writes a checkpoint of {@code state.iteration()}: all of it, or nothing. On any I/O failure it
   * removes what it wrote, leaves every existing checkpoint as it was, and throws {@link SaveFailed}
   * naming the directory, the OS's reason and the newest checkpoint still there.
   */
  public Path save(Engine engine, CheckpointState state) {
    Path target = root.resolve(String.format("%s%010d", PREFIX, state.iteration()));
    Path tmp = null;
    Path replaced = null;
    Path writing = root;
    try {
      Files.createDirectories(root);
      deleteUnfinishedSaves();
      tmp = Files.createTempDirectory(root, WRITING_PREFIX);
      writing = tmp.resolve(PARAMETERS);
      writeTensors(writing, engine.parameters());
      writing = tmp.resolve(MOMENTUM);
      writeTensors(writing, engine.momentum());
      writing = tmp.resolve(STATE);
      try (var out = Files.newOutputStream(writing)) {
        JSON.writeValue(out, state);
      }
      writing = tmp;
      fsync(tmp); // a file system that allocates late (ext4, XFS, NFS) may say "no space" only here
      if (Files.exists(target)) {
        // the same iteration saved again (the end of a run right after a periodic save): the old one is
        // moved aside under a name that is never read and removed after the new one is in place
        replaced = root.resolve(REPLACED_PREFIX + target.getFileName());
        Files.move(target, replaced, StandardCopyOption.ATOMIC_MOVE);
      }
      writing = target;
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        throw new IOException("the checkpoint directory's file system cannot rename atomically: " + root, e);
      }
      tmp = null;
      fsyncDirectory(root);
      if (replaced != null) {
        deleteQuietly(replaced);
      }
    } catch (IOException e) {
      deleteQuietly(tmp);
      restore(replaced, target);
      Path previous;
      try {
        previous = latest().orElse(null);
      } catch (UncheckedIOException listing) {
        previous = null;
      }
      if (e instanceof FileSystemException fse && fse.getFile() != null) {
        writing = Path.of(fse.getFile());
      }
      throw new SaveFailed(String.format("checkpoint %s not written: %s (writing %s); %s", target.getFileName(), reason(e),
          writing, previous == null ? "there is no earlier checkpoint in " + root
              : "the previous checkpoint " + previous + " is intact"), e, state.iteration(), previous);
    }
    log.info("checkpoint {} (epoch {}, iteration {}, lr {})", target, state.epoch(), state.iteration(), state.learningRate());
    prune();
    return target;
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
      String name = p.getFileName().toString();
      if (name.startsWith(REPLACED_PREFIX) && !Files.exists(root.resolve(name.substring(REPLACED_PREFIX.length())))) {
        // a complete checkpoint moved aside by a save of the same iteration that died before the new one took its place
        log.warn("moving {} back: a save of the same iteration did not finish", p);
        restore(p, root.resolve(name.substring(REPLACED_PREFIX.length())));
        continue;
      }
      log.warn("removing {}, left by a checkpoint save that did not finish", p);
      deleteTree(p);
    }
  }

  /** Removes the oldest checkpoints beyond {@code keep}; the new one is written, so a failure here only warns. */
  private void prune() {
    List<Path> all = list();
    for (int i = 0; i < all.size() - keep; i++) {
      try {
        deleteTree(all.get(i));
      } catch (IOException | UncheckedIOException e) {
        log.warn("could not remove the old checkpoint {}: {}", all.get(i), e.getMessage());
      }
    }
  }

  /** Puts back a checkpoint moved aside for one of the same iteration that then could not take its place. */
  private static void restore(Path replaced, Path target) {
    if (replaced == null || Files.exists(target) || !Files.exists(replaced)) {
      return;
    }
    try {
      Files.move(replaced, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      log.error("could not move {} back to {} ({}); it is a complete checkpoint: move it back by hand", replaced, target,
          e.getMessage());
    }
  }

  /** What the OS said, in words: "No space left on device", "File too large", "Permission denied", ... */
  private static String reason(IOException e) {
    if (e instanceof FileSystemException fse) {
      if (fse.getReason() != null) {
        return fse.getReason();
      }
      if (e instanceof FileAlreadyExistsException) {
        return "a file of that name is in the way";
      }
      if (e instanceof NoSuchFileException) {
        return "No such file or directory";
      }
      if (e instanceof AccessDeniedException) {
        return "Permission denied";
      }
      return e.getClass().getSimpleName();
    }
    return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
  }

  /** Removes a save's partial files (best effort: the next save removes what is left). */
  private static void deleteQuietly(Path p) {
    if (p == null || !Files.exists(p)) {
      return;
    }
    try {
      deleteTree(p);
    } catch (IOException | UncheckedIOException e) {
      log.warn("could not remove {} ({}); the next save removes it", p, e.getMessage());
    }
  }

  /** Makes the rename itself durable (a power cut after it keeps the new checkpoint); best effort. */
  private static void fsyncDirectory(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      log.debug("cannot fsync the directory {}: {}", dir, e.getMessage()); // some file systems refuse; the rename stands
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
