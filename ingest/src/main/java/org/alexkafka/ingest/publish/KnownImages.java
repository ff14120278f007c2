package org.alexkafka.ingest.publish;

import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The images ingest has published or is publishing, by id, with the class each went out under: a
 * picture is published once, and the first label stays. For an image published by an earlier run
 * only its place on the images topic is known (start-up reads the small images.ids index, not the
 * images), so its label is read from there when needed (see {@link PublishedLabelReader}).
 */
public final class KnownImages {

  /** What is known of an image published before: its label, or only where it is. */
  public record Prior(String label, ImageLocation location) {}

  // One map for both cases, the value a label (String) or an ImageLocation: there may be millions
  // of ids, so no wrapper object per id.
  private final ConcurrentHashMap<String, Object> byId = new ConcurrentHashMap<>();
  /** One String per class, shared by all its images. */
  private final ConcurrentHashMap<String, String> classes = new ConcurrentHashMap<>();

  /** An image found at start-up; false if it was known already (a later copy: the first place stays). */
  public boolean recovered(String id, ImageLocation at) {
    return byId.putIfAbsent(id, at) == null;
  }

  /**
   * Takes {@code id} for {@code label} if no image has it yet (empty result: go on and publish),
   * otherwise returns what is known of the image that has it.
   */
  public Optional<Prior> claim(String id, String label) {
    Object before = byId.putIfAbsent(id, classes.computeIfAbsent(label, l -> l));
    if (before == null) {
      return Optional.empty();
    }
    return Optional.of(before instanceof ImageLocation at ? new Prior(null, at) : new Prior((String) before, null));
  }

  /** Gives up a claim: the image did not reach Kafka, a later attempt may publish it. */
  public void forget(String id) {
    byId.remove(id);
  }

  /** Records the label read back for an image of an earlier run, so it is read once. */
  public void learn(String id, String label) {
    byId.replace(id, classes.computeIfAbsent(label, l -> l));
  }

  public boolean contains(String id) {
    return byId.containsKey(id);
  }

  public int size() {
    return byId.size();
  }

  public Set<String> ids() {
    return byId.keySet();
  }
}
