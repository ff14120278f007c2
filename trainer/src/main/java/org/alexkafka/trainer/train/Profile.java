package org.alexkafka.trainer.train;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import org.alexkafka.schemas.config.EnumIds;

/** The network's widths: the paper's, or the same network narrower (tests, the demo, the small bench). */
public enum Profile {
  PAPER, SMALL;

  /** The lower-case name used on the command line and in checkpoints. */
  @JsonValue
  public String id() {
    return EnumIds.id(this);
  }

  @Override
  public String toString() {
    return id();
  }

  /** "paper" or "small", in any case. */
  @JsonCreator
  public static Profile parse(String id) {
    return EnumIds.parse(Profile.class, id, "profile");
  }
}
