package org.alexkafka.trainer.train;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The network's widths: the paper's, or the same network narrower (tests, the demo, the small bench). */
public enum Profile {
  PAPER, SMALL;

  /** The lower-case name used on the command line and in checkpoints. */
  @JsonValue
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  @Override
  public String toString() {
    return id();
  }

  /** "paper" or "small", in any case. */
  @JsonCreator
  public static Profile parse(String id) {
    for (Profile p : values()) {
      if (p.id().equalsIgnoreCase(id.trim())) {
        return p;
      }
    }
    throw new IllegalArgumentException("profile must be one of " + Arrays.stream(values()).map(Profile::id)
        .collect(Collectors.joining(", ")) + "; got " + id);
  }
}
