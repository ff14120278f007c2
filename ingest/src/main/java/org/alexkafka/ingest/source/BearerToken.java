package org.alexkafka.ingest.source;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;
import java.util.Optional;

/**
 * The secret an upload must carry as {@code Authorization: Bearer <token>}. Compared in constant
 * time: both sides are hashed first, so neither the position of the first wrong byte nor the
 * token's length shows in how long a refusal takes.
 */
public final class BearerToken {

  private static final String SCHEME = "bearer ";

  private final byte[] digest;

  private BearerToken(String token) {
    this.digest = sha256(token);
  }

  /** Empty when {@code token} is null or blank: no token required. */
  public static Optional<BearerToken> of(String token) {
    return token == null || token.isBlank() ? Optional.empty() : Optional.of(new BearerToken(token));
  }

  /** Whether an {@code Authorization} header value carries this token. */
  public boolean acceptsHeader(String authorization) {
    if (authorization == null || authorization.length() <= SCHEME.length()
        || !authorization.substring(0, SCHEME.length()).toLowerCase(Locale.ROOT).equals(SCHEME)) {
      return false;
    }
    return MessageDigest.isEqual(digest, sha256(authorization.substring(SCHEME.length()).strip()));
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  @Override
  public String toString() {
    return "BearerToken[***]";
  }
}
