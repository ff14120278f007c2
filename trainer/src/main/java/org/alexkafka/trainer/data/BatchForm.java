package org.alexkafka.trainer.data;

import org.alexkafka.trainer.engine.Engine;

/** How batches reach the engine (the trainer's {@code --batch-form}). */
public enum BatchForm {
  /** 8-bit crops for an engine that converts them itself (the torch engine on CUDA), floats otherwise. */
  AUTO,
  /** Float NCHW, converted on the CPU's cores by the feed, ahead of the engine. */
  FLOATS,
  /** The 8-bit crops as they came, converted by the engine where it computes (a quarter of the bytes). */
  PIXELS;

  /** The form for {@code engine}: this one, or for AUTO the one the engine prefers. */
  public BatchForm forEngine(Engine engine) {
    if (this != AUTO) {
      return this;
    }
    return engine.convertsPixels() ? PIXELS : FLOATS;
  }

  @com.fasterxml.jackson.annotation.JsonCreator
  public static BatchForm parse(String id) {
    return org.alexkafka.schemas.config.EnumIds.parse(BatchForm.class, id, "batch form");
  }

  /** The lower-case name used on the command line and in checkpoints' configurations. */
  @com.fasterxml.jackson.annotation.JsonValue
  public String id() {
    return org.alexkafka.schemas.config.EnumIds.id(this);
  }
}
