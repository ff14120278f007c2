package org.alexkafka.ingest.decode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.alexkafka.schemas.RejectReason;
import org.alexkafka.ingest.TestData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every file of testdata/hard/manifest.tsv behaves as the manifest says. */
class HardFilesTest {

  private static final int SIZE = 64;
  private final ImagePreparer preparer = new ImagePreparer(ImageDecoder.DEFAULT_MAX_PIXELS, SIZE);

  static Stream<Arguments> manifest() throws IOException {
    List<String> lines = Files.readAllLines(TestData.hard("manifest.tsv"));
    return lines.stream().skip(1).filter(l -> !l.isBlank()).map(l -> l.split("\t"))
        .map(f -> Arguments.of(f[0], f[1], f[2]));
  }

  @ParameterizedTest(name = "{0} -> {1} ({2})")
  @MethodSource("manifest")
  void behavesAsTheManifestSays(String file, String expect, String what) throws Exception {
    byte[] bytes = Files.readAllBytes(TestData.hard(file));
    if (expect.equals("ok")) {
      PreparedImage image = preparer.prepare(bytes);
      assertThat(image.size()).isEqualTo(SIZE);
      assertThat(image.rgb()).hasSize(SIZE * SIZE * 3);
      assertThat(image.originalWidth()).isPositive();
      assertThat(distinctValues(image.rgb())).as("a real picture, not a flat fill").isGreaterThan(file.startsWith("tiny") ? 0 : 1);
    } else {
      assertThatThrownBy(() -> preparer.prepare(bytes))
          .isInstanceOfSatisfying(DecodeException.class, e -> {
            assertThat(e.reason()).isIn(RejectReason.EMPTY, RejectReason.NOT_AN_IMAGE, RejectReason.CORRUPT,
                RejectReason.TRUNCATED, RejectReason.TOO_LARGE);
            assertThat(e.getMessage()).isNotBlank();
            if (file.startsWith("bomb")) {
              assertThat(e.reason()).isEqualTo(RejectReason.TOO_LARGE);
            }
            if (file.startsWith("truncated-half")) {
              assertThat(e.reason()).isEqualTo(RejectReason.TRUNCATED);
            }
            if (file.startsWith("empty")) {
              assertThat(e.reason()).isEqualTo(RejectReason.EMPTY);
            }
            if (file.startsWith("text")) {
              assertThat(e.reason()).isEqualTo(RejectReason.NOT_AN_IMAGE);
            }
          });
    }
  }

  private static long distinctValues(byte[] rgb) {
    boolean[] seen = new boolean[256];
    long n = 0;
    for (byte b : rgb) {
      if (!seen[b & 0xFF]) {
        seen[b & 0xFF] = true;
        n++;
      }
    }
    return n;
  }

  static Path hard(String name) {
    return TestData.hard(name);
  }

  @org.junit.jupiter.api.Test
  void photoshopFilesGiveThePixelsOfThePictureTheyWereWrittenFrom() throws Exception {
    byte[] gif = preparer.prepare(Files.readAllBytes(TestData.hard("hopper.gif"))).rgb();
    for (String psd : List.of("photoshop-raw.psd", "photoshop-rle.psd")) {
      assertThat(preparer.prepare(Files.readAllBytes(TestData.hard(psd))).rgb()).as(psd).isEqualTo(gif);
    }
  }
}
