package org.alexkafka.trainer.engine;

/** The engines the trainer can run on. */
public enum EngineKind {
  /** DL4J/ND4J on the CPU (ND4J's CUDA build only as a legacy profile): the default. */
  DL4J,
  /** libtorch through JavaCPP, on the CPU or on CUDA GPUs. */
  TORCH;

  /** "dl4j" or "torch", in any case (checkpoints written before saved "DL4J"). */
  @com.fasterxml.jackson.annotation.JsonCreator
  public static EngineKind parse(String id) {
    return org.alexkafka.schemas.config.EnumIds.parse(EngineKind.class, id, "engine");
  }

  /** The lower-case name used on the command line and in checkpoints' configurations. */
  @com.fasterxml.jackson.annotation.JsonValue
  public String id() {
    return org.alexkafka.schemas.config.EnumIds.id(this);
  }
}
