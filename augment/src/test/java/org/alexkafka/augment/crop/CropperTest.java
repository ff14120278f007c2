package org.alexkafka.augment.crop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class CropperTest {

  /** A 4x4 image whose pixel (x, y) is (x, y, 100 + x + 4y): every byte says where it came from. */
  private static byte[] coordinateImage(int size) {
    byte[] img = new byte[size * size * 3];
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        int i = (y * size + x) * 3;
        img[i] = (byte) x;
        img[i + 1] = (byte) y;
        img[i + 2] = (byte) (100 + x + size * y);
      }
    }
    return img;
  }

  @Test
  void cropsThePixelsAtTheOffset() {
    byte[] crop = Cropper.crop(coordinateImage(4), 4, new CropWindow(1, 2, 2, false));
    assertThat(crop).containsExactly(
        1, 2, 109, 2, 2, 110,
        1, 3, 113, 2, 3, 114);
  }

  @Test
  void reflectionReversesEachRowAndKeepsChannelOrder() {
    byte[] crop = Cropper.crop(coordinateImage(4), 4, new CropWindow(1, 2, 2, true));
    assertThat(crop).containsExactly(
        2, 2, 110, 1, 2, 109,
        2, 3, 114, 1, 3, 113);
    byte[] full = Cropper.crop(coordinateImage(4), 4, new CropWindow(0, 0, 4, true));
    byte[] twice = Cropper.crop(full, 4, new CropWindow(0, 0, 4, true));
    assertThat(twice).containsExactly(coordinateImage(4));
  }

  @Test
  void respectsASourceOffsetAndRefusesWindowsOutsideTheImage() {
    byte[] img = coordinateImage(4);
    byte[] shifted = new byte[img.length + 5];
    System.arraycopy(img, 0, shifted, 5, img.length);
    assertThat(Cropper.crop(shifted, 5, 4, new CropWindow(1, 1, 3, true)))
        .containsExactly(Cropper.crop(img, 4, new CropWindow(1, 1, 3, true)));
    assertThatThrownBy(() -> Cropper.crop(img, 4, new CropWindow(2, 0, 3, false)))
        .hasMessageContaining("does not fit");
  }
}
