package org.alexkafka.schemas.config;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The lower-case ids by which the command line and saved files name an enum's constants. */
public final class EnumIds {

  private EnumIds() {}

  /** "paper" for PAPER. */
  public static String id(Enum<?> constant) {
    return constant.name().toLowerCase(Locale.ROOT);
  }

  /** The constant named {@code id} in any case, or an error naming {@code what} and the valid ids. */
  public static <E extends Enum<E>> E parse(Class<E> type, String id, String what) {
    for (E constant : type.getEnumConstants()) {
      if (id(constant).equalsIgnoreCase(id.trim())) {
        return constant;
      }
    }
    throw new IllegalArgumentException(what + " must be one of " + Arrays.stream(type.getEnumConstants())
        .map(EnumIds::id).collect(Collectors.joining(", ")) + "; got " + id);
  }
}
