package org.alexkafka.augment.testing;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Random;
import org.alexkafka.schemas.Image;
import org.alexkafka.schemas.LabelEntry;
import org.alexkafka.schemas.Split;

/** Synthetic images and labels for the tests. */
public final class TestImages {

  private TestImages() {}

  /** Pixel (x, y) = (x, y, salt): every crop byte says where in the source it came from. */
  public static byte[] coordinatePixels(int size, int salt) {
    byte[] px = new byte[size * size * 3];
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        int i = (y * size + x) * 3;
        px[i] = (byte) x;
        px[i + 1] = (byte) y;
        px[i + 2] = (byte) salt;
      }
    }
    return px;
  }

  public static byte[] randomPixels(int size, long seed) {
    byte[] px = new byte[size * size * 3];
    new Random(seed).nextBytes(px);
    return px;
  }

  public static Image image(String id, String label, Split split, int size, byte[] pixels) {
    return Image.newBuilder().setId(id).setLabel(label).setSplit(split).setSource("test/" + id)
        .setOriginalWidth(size).setOriginalHeight(size).setWidth(size).setHeight(size)
        .setPixels(ByteBuffer.wrap(pixels)).setIngestedAt(Instant.ofEpochMilli(1_000)).build();
  }

  public static LabelEntry label(String classId, int index) {
    return LabelEntry.newBuilder().setClassId(classId).setIndex(index).setName("class " + classId).build();
  }
}
