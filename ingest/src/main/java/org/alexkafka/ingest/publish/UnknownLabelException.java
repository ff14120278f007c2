package org.alexkafka.ingest.publish;

/** A class id the configured synsets file does not list. */
public final class UnknownLabelException extends Exception {
  public UnknownLabelException(String message) {
    super(message);
  }
}
