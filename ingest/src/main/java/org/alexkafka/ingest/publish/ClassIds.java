package org.alexkafka.ingest.publish;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What a class id may look like: 1 to 64 of {@code A-Z a-z 0-9 _ . -}, and not "." or "..".
 * WordNet ids ({@code n01440764}) and plain names ({@code cat}, {@code tabby_cat}) pass; a path
 * ({@code ../../etc}), spaces, control characters and kilobytes of text do not, since a class id
 * becomes a key of the labels topic and a folder name in places downstream.
 */
public final class ClassIds {

  public static final int MAX_LENGTH = 64;
  private static final Pattern VALID = Pattern.compile("[A-Za-z0-9_.-]{1," + MAX_LENGTH + "}");
  private static final int SHOWN = 40;
  private static final String RULE = "a class id is 1 to " + MAX_LENGTH
      + " of A-Z a-z 0-9 _ . - (not \".\" or \"..\"), e.g. n01440764";

  private ClassIds() {}

  /** Why {@code id} is not a valid class id, or empty if it is. */
  public static Optional<String> problem(String id) {
    if (id == null || id.isEmpty()) {
      return Optional.of("the class id is empty: " + RULE);
    }
    if (id.length() > MAX_LENGTH) {
      return Optional.of("class id " + shown(id) + " is " + id.length() + " characters long: " + RULE);
    }
    if (!VALID.matcher(id).matches() || id.equals(".") || id.equals("..")) {
      return Optional.of("class id " + shown(id) + " is not valid: " + RULE);
    }
    return Optional.empty();
  }

  /** The id as it can safely go into a message or a log line: quoted, escaped, shortened. */
  public static String shown(String id) {
    StringBuilder sb = new StringBuilder("'");
    int n = Math.min(id.length(), SHOWN);
    for (int i = 0; i < n; i++) {
      char c = id.charAt(i);
      if (c < 0x20 || c == 0x7f || c == '\'' || c == '\\' || (c >= 0x80 && !Character.isLetterOrDigit(c))) {
        sb.append(String.format("\\u%04x", (int) c));
      } else {
        sb.append(c);
      }
    }
    sb.append('\'');
    if (id.length() > n) {
      sb.append("...");
    }
    return sb.toString();
  }
}
