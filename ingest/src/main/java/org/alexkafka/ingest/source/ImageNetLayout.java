package org.alexkafka.ingest.source;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import org.alexkafka.schemas.Split;

/**
 * The ImageNet folder layout: {@code <root>/<class-id>/<file>}, or {@code <root>/train/<class-id>/<file>}
 * and {@code <root>/val/<class-id>/<file>}. Outside a split folder a file belongs to the default split.
 */
public final class ImageNetLayout {

  private ImageNetLayout() {}

  /** The split a top-level folder name stands for, if it is a split folder. */
  public static Optional<Split> splitFolder(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "train" -> Optional.of(Split.TRAIN);
      case "val" -> Optional.of(Split.VAL);
      default -> Optional.empty();
    };
  }

  /** Class and split of a file, or empty when the file is not inside a class folder. */
  public static Optional<SourceFile> place(Path root, Path file, Split defaultSplit) {
    Path rel = root.relativize(file);
    int n = rel.getNameCount();
    if (n == 3) {
      return splitFolder(rel.getName(0).toString())
          .map(split -> new SourceFile(file, rel.getName(1).toString(), split));
    }
    if (n == 2 && splitFolder(rel.getName(0).toString()).isEmpty()) {
      return Optional.of(new SourceFile(file, rel.getName(0).toString(), defaultSplit));
    }
    return Optional.empty();
  }

  /** Files people and tools leave behind that are not inputs: hidden files and partial downloads. */
  public static boolean ignored(Path file) {
    String name = file.getFileName().toString();
    return name.startsWith(".") || name.endsWith(".part") || name.endsWith(".crdownload") || name.endsWith(".tmp");
  }
}
