package org.alexkafka.ingest.source;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BearerTokenTest {

  @Test
  void onlyTheBearerSchemeWithTheExactTokenIsAccepted() {
    BearerToken token = BearerToken.of("s3cret").orElseThrow();
    assertThat(token.acceptsHeader("Bearer s3cret")).isTrue();
    assertThat(token.acceptsHeader("bearer s3cret")).isTrue();
    assertThat(token.acceptsHeader("Bearer  s3cret ")).isTrue();
    assertThat(token.acceptsHeader("Bearer s3cre")).isFalse();
    assertThat(token.acceptsHeader("Bearer s3cret2")).isFalse();
    assertThat(token.acceptsHeader("Basic s3cret")).isFalse();
    assertThat(token.acceptsHeader("s3cret")).isFalse();
    assertThat(token.acceptsHeader("Bearer ")).isFalse();
    assertThat(token.acceptsHeader(null)).isFalse();
    assertThat(token.toString()).doesNotContain("s3cret");
  }

  @Test
  void aBlankTokenMeansNone() {
    assertThat(BearerToken.of(null)).isEmpty();
    assertThat(BearerToken.of("  ")).isEmpty();
  }
}
