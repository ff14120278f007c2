package org.alexkafka.ingest.decode;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import org.alexkafka.ingest.TestData;
import org.alexkafka.ingest.resize.Pixels;
import org.junit.jupiter.api.Test;

class ExifOrientationTest {

  private final ImagePreparer preparer = new ImagePreparer(ImageDecoder.DEFAULT_MAX_PIXELS, 64);

  private byte[] prepared(int orientation) throws Exception {
    return preparer.prepare(Files.readAllBytes(TestData.hard("exif-orientation-" + orientation + ".jpg"))).rgb();
  }

  private static double meanAbsDiff(byte[] a, byte[] b) {
    long sum = 0;
    for (int i = 0; i < a.length; i++) {
      sum += Math.abs((a[i] & 0xFF) - (b[i] & 0xFF));
    }
    return (double) sum / a.length;
  }

  @Test
  void theEightOrientationFilesGiveTheSameUprightPicture() throws Exception {
    byte[] upright = prepared(1);
    for (int o = 2; o <= 8; o++) {
      byte[] other = prepared(o);
      // The files differ only in the painted digit: a few grey levels on average.
      assertThat(meanAbsDiff(upright, other)).as("orientation %d vs 1", o).isLessThan(4.0);
    }
    // ... while a picture that was NOT turned upright differs a lot: the comparison can tell.
    byte[] raw6 = preparer.prepare(Files.readAllBytes(TestData.hard("exif-orientation-1.jpg"))).rgb();
    byte[] rotated = ExifOrientation.apply(new Pixels(64, 64, 3, raw6), 6).data();
    assertThat(meanAbsDiff(upright, rotated)).isGreaterThan(20.0);
  }

  @Test
  void readsTheTagFromTheFile() throws Exception {
    for (int o = 1; o <= 8; o++) {
      assertThat(ExifOrientation.ofJpeg(Files.readAllBytes(TestData.hard("exif-orientation-" + o + ".jpg")))).isEqualTo(o);
    }
  }

  @Test
  void rotationsAndFlipsMoveTheCornersWhereTheTagSays() {
    // 3x2 gray: 1 2 3 / 4 5 6
    Pixels p = new Pixels(3, 2, 1, new byte[] {1, 2, 3, 4, 5, 6});
    assertThat(ExifOrientation.apply(p, 2).data()).containsExactly(3, 2, 1, 6, 5, 4);
    assertThat(ExifOrientation.apply(p, 3).data()).containsExactly(6, 5, 4, 3, 2, 1);
    assertThat(ExifOrientation.apply(p, 4).data()).containsExactly(4, 5, 6, 1, 2, 3);
    Pixels turned = ExifOrientation.apply(p, 6); // 90 degrees clockwise: 2 wide, 3 high
    assertThat(turned.width()).isEqualTo(2);
    assertThat(turned.data()).containsExactly(4, 1, 5, 2, 6, 3);
    assertThat(ExifOrientation.apply(p, 8).data()).containsExactly(3, 6, 2, 5, 1, 4);
    assertThat(ExifOrientation.apply(p, 5).data()).containsExactly(1, 4, 2, 5, 3, 6);
    assertThat(ExifOrientation.apply(p, 7).data()).containsExactly(6, 3, 5, 2, 4, 1);
  }
}
