package org.alexkafka.ingest.source;

import java.nio.file.Path;
import org.alexkafka.schemas.Split;

/** A file found in a folder tree, with the class and split its place in the tree gives it. */
public record SourceFile(Path path, String label, Split split) {}
