package org.alexkafka.trainer.engine.dl4j.speed;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.List;

/** Copies a DL4J layer's state into the layer that takes its place (see {@link LayerHelpers#enable}). */
final class LayerState {
    private LayerState() {
    }

    /** Every instance field that {@code classes} (DL4J's layer classes, from the layer's up) declare, so the swap loses nothing. */
    static void copy(Object from, Object to, List<Class<?>> classes) {
        for (Class<?> c : classes) {
            for (Field f : c.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers())) {
                    continue;
                }
                try {
                    f.setAccessible(true);
                    f.set(to, f.get(from));
                } catch (ReflectiveOperationException | RuntimeException e) {
                    throw new IllegalStateException("Cannot copy " + c.getSimpleName() + "." + f.getName()
                            + " (DL4J's layer classes changed?)", e);
                }
            }
        }
    }
}
