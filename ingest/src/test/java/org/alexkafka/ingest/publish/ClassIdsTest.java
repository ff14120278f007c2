package org.alexkafka.ingest.publish;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ClassIdsTest {

  @Test
  void wordNetIdsAndPlainNamesPassPathsAndJunkDoNot() {
    for (String ok : List.of("n01440764", "cat", "Tabby_cat-2.v1", "x".repeat(64), ".hidden", "a..b")) {
      assertThat(ClassIds.problem(ok)).as(ok).isEmpty();
    }
    for (String bad : List.of("", ".", "..", "../../etc", "a/b", "a\\b", "a b", "x".repeat(65), "tab\t", "new\nline",
        "ünïcode", "semi;colon", "%2e%2e")) {
      assertThat(ClassIds.problem(bad)).as(bad).isPresent();
    }
    assertThat(ClassIds.problem(null)).isPresent();
  }

  @Test
  void aBadIdIsShownShortAndEscapedInMessages() {
    assertThat(ClassIds.problem("x".repeat(5000)).orElseThrow()).contains("5000 characters long").hasSizeLessThan(200);
    assertThat(ClassIds.shown("evil\n[ERROR] forged")).doesNotContain("\n").contains("\\u000a");
  }
}
