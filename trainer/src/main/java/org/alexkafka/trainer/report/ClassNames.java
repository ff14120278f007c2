package org.alexkafka.trainer.report;

import java.util.HashMap;
import java.util.Map;
import org.alexkafka.schemas.LabelEntry;

/**
 * What the report calls a class: "church (n03028079)", from the {@code labels} topic's entries
 * (class id, index, human name); the id alone where the name is empty. ImageNet names list
 * synonyms ("church, church building"): the first one is shown.
 */
public final class ClassNames {

  private final Map<Integer, LabelEntry> byIndex;

  public ClassNames(Iterable<LabelEntry> entries) {
    this.byIndex = new HashMap<>();
    for (LabelEntry e : entries) {
      byIndex.put(e.getIndex(), e);
    }
  }

  /** No names known: every class is shown by the id its samples carry. */
  public static ClassNames none() {
    return new ClassNames(java.util.List.of());
  }

  public int size() {
    return byIndex.size();
  }

  /** "name (id)", or "id"; "#index" when neither the topic nor the samples know the class. */
  public String display(int index, String idFromSamples) {
    LabelEntry e = byIndex.get(index);
    if (e != null) {
      return display(e.getClassId(), e.getName());
    }
    return idFromSamples == null || idFromSamples.isEmpty() ? "#" + index : idFromSamples;
  }

  public static String display(String classId, String name) {
    String first = name == null ? "" : name.split(",", 2)[0].trim();
    return first.isEmpty() || first.equals(classId) ? classId : first + " (" + classId + ")";
  }
}
