package org.alexkafka.pipeline.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.BaseUnits;
import java.util.function.ToDoubleFunction;
import org.bytedeco.javacpp.Pointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * JavaCPP's view of native memory, where JavaCPP is on the class path (the full distribution;
 * the slim ingest/augment image has none, and then nothing is registered):
 * <ul>
 *   <li>{@code javacpp_physical_memory_bytes}: {@link Pointer#physicalBytes()}, the resident set of
 *       the whole process, which JavaCPP compares with its limit before it allocates;
 *   <li>{@code javacpp_physical_memory_max_bytes}: {@link Pointer#maxPhysicalBytes()}, that limit
 *       ({@code -Dorg.bytedeco.javacpp.maxPhysicalBytes}; 0 = none);
 *   <li>{@code javacpp_pointer_memory_bytes}: {@link Pointer#totalBytes()}, what JavaCPP's
 *       deallocators track (ND4J's and libtorch's buffers);
 *   <li>{@code javacpp_pointer_memory_max_bytes}: {@link Pointer#maxBytes()}, its limit
 *       ({@code -Dorg.bytedeco.javacpp.maxBytes}).
 * </ul>
 *
 * <p>{@link Pointer} is touched at the first scrape only: its class initialiser loads JavaCPP's own
 * small JNI library (libjnijavacpp, 150 KB, measured: 50 ms, +6 MB resident, one daemon thread)
 * and never ND4J's or libtorch's natives, so a service that does not use them pays only that, and
 * only when scraped. A failure there makes the gauges NaN; it never stops the service.
 */
final class JavaCppMetrics {

  private static final Logger log = LoggerFactory.getLogger(JavaCppMetrics.class);
  static final String POINTER_CLASS = "org.bytedeco.javacpp.Pointer";

  private JavaCppMetrics() {}

  /** Registers the gauges if JavaCPP is on the class path; returns whether it was. */
  static boolean bindIfPresent(MeterRegistry registry) {
    try {
      Class.forName(POINTER_CLASS, false, JavaCppMetrics.class.getClassLoader()); // found, not initialised
    } catch (ClassNotFoundException | LinkageError e) {
      log.debug("no JavaCPP on the class path: no javacpp_* gauges");
      return false;
    }
    Natives.bindTo(registry);
    return true;
  }

  /** Only loaded once JavaCPP is known to be there: it links {@link Pointer}. */
  private static final class Natives {

    static void bindTo(MeterRegistry registry) {
      gauge(registry, "javacpp.physical.memory", "Resident memory of the process as JavaCPP measures it (Pointer.physicalBytes)",
          o -> Pointer.physicalBytes());
      gauge(registry, "javacpp.physical.memory.max", "JavaCPP's limit on the resident memory (Pointer.maxPhysicalBytes; 0 = none)",
          o -> Pointer.maxPhysicalBytes());
      gauge(registry, "javacpp.pointer.memory", "Native memory held by JavaCPP pointers with deallocators (Pointer.totalBytes)",
          o -> Pointer.totalBytes());
      gauge(registry, "javacpp.pointer.memory.max", "JavaCPP's limit on the memory its pointers hold (Pointer.maxBytes)",
          o -> Pointer.maxBytes());
    }

    private static void gauge(MeterRegistry registry, String name, String description, ToDoubleFunction<Object> value) {
      // a strong reference: the state object is this class, which lives as long as the registry needs it
      Gauge.builder(name, Natives.class, value).strongReference(true).baseUnit(BaseUnits.BYTES)
          .description(description).register(registry);
    }
  }
}
