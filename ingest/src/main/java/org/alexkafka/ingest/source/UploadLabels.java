package org.alexkafka.ingest.source;

import java.util.Optional;
import org.alexkafka.ingest.publish.ClassIds;
import org.alexkafka.ingest.publish.InvalidLabelException;
import org.alexkafka.ingest.publish.LabelRegistry;
import org.alexkafka.ingest.publish.UnknownLabelException;

/**
 * Which labels an upload may carry, decided before its body is read: a well-formed class id
 * ({@link ClassIds}), and a class that exists (on the labels topic or in the synsets file) unless
 * new classes may be created over HTTP.
 */
public final class UploadLabels {

  /** Why a label is refused, and whether it is malformed (400) or an unknown class (422). */
  public record Refusal(boolean malformed, String message) {}

  private final LabelRegistry registry;
  private final boolean allowNewClasses;

  public UploadLabels(LabelRegistry registry, boolean allowNewClasses) {
    this.registry = registry;
    this.allowNewClasses = allowNewClasses;
  }

  public Optional<Refusal> refusal(String label) {
    try {
      registry.check(label); // well-formed; listed, where a synsets file fixes the classes
    } catch (InvalidLabelException e) {
      return Optional.of(new Refusal(true, e.getMessage()));
    } catch (UnknownLabelException e) {
      return Optional.of(new Refusal(false, e.getMessage()));
    }
    if (!allowNewClasses && !registry.exists(label)) {
      return Optional.of(new Refusal(false, "class '" + label + "' does not exist yet, and this endpoint creates no classes"
          + " (--http-new-classes=false): use one of the " + registry.snapshot().size() + " classes on the labels topic"));
    }
    return Optional.empty();
  }
}
