package org.alexkafka.ingest.source;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.alexkafka.schemas.Split;

/**
 * One walk of a folder tree: the files in class folders (in a shuffled order: a tree lists class by
 * class), the files that are in no class folder, and the class folders with no file.
 */
public record FolderListing(List<SourceFile> files, List<Path> misplaced, List<Path> emptyClassFolders) {

  public static FolderListing of(Path root, Split defaultSplit, Random shuffle) {
    if (!Files.isDirectory(root)) {
      throw new IllegalArgumentException("not a folder: " + root);
    }
    List<SourceFile> files = new ArrayList<>();
    List<Path> misplaced = new ArrayList<>();
    List<Path> empty = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(root)) {
      walk.filter(Files::isRegularFile).filter(p -> !ImageNetLayout.ignored(p)).sorted().forEach(p ->
          ImageNetLayout.place(root, p, defaultSplit).ifPresentOrElse(files::add, () -> misplaced.add(p)));
    } catch (IOException | UncheckedIOException e) {
      throw new IllegalStateException("cannot list " + root + ": " + e.getMessage(), e);
    }
    try (Stream<Path> top = Files.list(root)) {
      for (Path dir : top.filter(Files::isDirectory).sorted().toList()) {
        if (ImageNetLayout.splitFolder(dir.getFileName().toString()).isPresent()) {
          try (Stream<Path> classes = Files.list(dir)) {
            for (Path c : classes.filter(Files::isDirectory).sorted().toList()) {
              if (isEmpty(c)) {
                empty.add(c);
              }
            }
          }
        } else if (isEmpty(dir)) {
          empty.add(dir);
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot list " + root + ": " + e.getMessage(), e);
    }
    Collections.shuffle(files, shuffle);
    return new FolderListing(files, misplaced, empty);
  }

  private static boolean isEmpty(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.noneMatch(p -> Files.isRegularFile(p) && !ImageNetLayout.ignored(p));
    }
  }
}
