package org.alexkafka.ingest.publish;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.alexkafka.schemas.LabelEntry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stable class indices. Starts from what the compacted {@code labels} topic already holds (an index,
 * once given, never changes); a class seen for the first time gets its synsets-file index when a
 * synsets file is given (and is refused when the file does not list it), otherwise the next free
 * index. A new entry is published and acknowledged before {@link #indexOf} returns, so no image of
 * a class reaches Kafka before its label. Class ids are checked by {@link ClassIds} first, whatever
 * the source: an upload's query parameter or a folder's name.
 */
public final class LabelRegistry {

  private static final Logger log = LoggerFactory.getLogger(LabelRegistry.class);

  /** Publishes one label entry and waits for the broker's acknowledgement. */
  @FunctionalInterface
  public interface LabelSink {
    void publishAndWait(LabelEntry entry) throws ExecutionException, InterruptedException;
  }

  private final Map<String, LabelEntry> known = new HashMap<>();
  private final Synsets synsets;
  private final LabelSink sink;
  private int nextFree;

  public LabelRegistry(Iterable<LabelEntry> existing, Synsets synsets, LabelSink sink) {
    this.synsets = synsets;
    this.sink = sink;
    for (LabelEntry e : existing) {
      known.put(e.getClassId(), e);
      nextFree = Math.max(nextFree, e.getIndex() + 1);
      if (synsets != null) {
        synsets.indexOf(e.getClassId()).filter(i -> i != e.getIndex()).ifPresent(i -> log.warn(
            "class {} already has index {} on the labels topic; the synsets file says {}: keeping {} (indices never change)",
            e.getClassId(), e.getIndex(), i, e.getIndex()));
      }
    }
    if (synsets != null) {
      nextFree = Math.max(nextFree, synsets.size());
    }
  }

  /** Refuses an invalid class id, or a class the synsets file does not list, without registering anything. */
  public synchronized void check(String classId) throws InvalidLabelException, UnknownLabelException {
    requireValid(classId);
    if (!known.containsKey(classId) && synsets != null && synsets.indexOf(classId).isEmpty()) {
      throw new UnknownLabelException("class '" + classId + "' is not in the synsets file (" + synsets.size() + " classes)");
    }
  }

  /** Whether the class exists: on the labels topic already, or listed in the synsets file. */
  public synchronized boolean exists(String classId) {
    return known.containsKey(classId) || (synsets != null && synsets.indexOf(classId).isPresent());
  }

  /** The class's index, registering the class first if it is new. */
  public synchronized int indexOf(String classId)
      throws InvalidLabelException, UnknownLabelException, ExecutionException, InterruptedException {
    LabelEntry entry = known.get(classId);
    if (entry != null) {
      return entry.getIndex();
    }
    requireValid(classId);
    if (synsets != null) {
      int index = synsets.indexOf(classId).orElseThrow(() -> new UnknownLabelException(
          "class '" + classId + "' is not in the synsets file (" + synsets.size() + " classes)"));
      entry = new LabelEntry(classId, index, synsets.nameOf(classId));
    } else {
      entry = new LabelEntry(classId, nextFree++, "");
    }
    sink.publishAndWait(entry);
    known.put(classId, entry);
    log.info("registered class {} as index {}", classId, entry.getIndex());
    return entry.getIndex();
  }

  private static void requireValid(String classId) throws InvalidLabelException {
    var problem = ClassIds.problem(classId);
    if (problem.isPresent()) {
      throw new InvalidLabelException(problem.get());
    }
  }

  public synchronized Map<String, Integer> snapshot() {
    Map<String, Integer> out = new HashMap<>();
    known.forEach((k, v) -> out.put(k, v.getIndex()));
    return out;
  }
}
