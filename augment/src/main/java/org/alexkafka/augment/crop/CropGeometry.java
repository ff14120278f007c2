package org.alexkafka.augment.crop;

import java.util.List;
import java.util.Random;

/**
 * Where crops of a {@code cropSize} square may lie in an {@code imageSize} square image.
 *
 * <p>Training crops: the paper counts "32×32 offsets × 2 reflections = 2048 variants" for 224 out
 * of 256. The offsets 0..S−C would be 33 per axis (2178 combinations), so training offsets are
 * drawn from {@code 0 .. S−C−1} (0..31 for 256/224): exactly 32×32×2 = 2048 combinations, all
 * inside the image. The test views below use the true corners, i.e. offset S−C (32) on the
 * right/bottom, and the centre (S−C)/2 (16).
 */
public record CropGeometry(int imageSize, int cropSize) {

  public CropGeometry {
    if (cropSize <= 0 || cropSize > imageSize) {
      throw new IllegalArgumentException("crop size " + cropSize + " must be in 1.." + imageSize
          + " (the image size)");
    }
  }

  /** Number of training offsets per axis (32 for 256/224); 1 when crop and image are the same size. */
  public int trainingOffsets() {
    return Math.max(1, imageSize - cropSize);
  }

  /** Number of distinct training crops with reflections: offsets² × 2 (2048 for 256/224). */
  public int trainingCombinations() {
    return trainingOffsets() * trainingOffsets() * 2;
  }

  /** A random training crop; draws x, then y, then the reflection flag from {@code random}. */
  public CropWindow randomTrainingCrop(Random random) {
    int x = random.nextInt(trainingOffsets());
    int y = random.nextInt(trainingOffsets());
    boolean mirrored = random.nextBoolean();
    return new CropWindow(x, y, cropSize, mirrored);
  }

  /** The centre crop, not mirrored (the single validation view). */
  public CropWindow centre() {
    int c = (imageSize - cropSize) / 2;
    return new CropWindow(c, c, cropSize, false);
  }

  /**
   * The paper's 10 test views: centre, top-left, top-right, bottom-left, bottom-right, then the
   * same five mirrored. View 0 is the centre crop.
   */
  public List<CropWindow> testViews() {
    int far = imageSize - cropSize;
    int c = far / 2;
    int[][] corners = {{c, c}, {0, 0}, {far, 0}, {0, far}, {far, far}};
    CropWindow[] views = new CropWindow[10];
    for (int i = 0; i < 5; i++) {
      views[i] = new CropWindow(corners[i][0], corners[i][1], cropSize, false);
      views[i + 5] = new CropWindow(corners[i][0], corners[i][1], cropSize, true);
    }
    return List.of(views);
  }
}
