package org.alexkafka.ingest.publish;

/** A class id that is not well-formed (see {@link ClassIds}): refused before anything is registered. */
public final class InvalidLabelException extends Exception {
  public InvalidLabelException(String message) {
    super(message);
  }
}
