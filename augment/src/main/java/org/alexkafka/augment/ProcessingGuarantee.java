package org.alexkafka.augment;

import org.alexkafka.schemas.config.EnumIds;

/** Kafka Streams' processing guarantees that the augment app supports. */
public enum ProcessingGuarantee {
  /** Each sample exactly once, also across a crash (transactions): the default. */
  EXACTLY_ONCE_V2,
  /** Faster commits; a crash may repeat the samples of up to one commit interval. */
  AT_LEAST_ONCE;

  /** The value of Streams' {@code processing.guarantee}, also the command line's. */
  public String id() {
    return EnumIds.id(this);
  }

  @Override
  public String toString() {
    return id();
  }
}
