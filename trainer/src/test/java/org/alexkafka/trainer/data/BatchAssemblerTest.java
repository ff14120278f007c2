package org.alexkafka.trainer.data;

import org.alexkafka.trainer.engine.Batch;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import org.alexkafka.schemas.Sample;
import org.junit.jupiter.api.Test;

class BatchAssemblerTest {

  /** Mean image 4x4: value at flat index i is i. Crop 2x2: pixel (y, x, c) = 100 + 10y + 3x + c. */
  private static final MeanImage MEAN = new MeanImage(4, 4, meanValues());

  private static float[] meanValues() {
    float[] m = new float[48];
    for (int i = 0; i < m.length; i++) {
      m[i] = i;
    }
    return m;
  }

  private static Sample sample(boolean mirrored, int classIndex) {
    byte[] px = new byte[2 * 2 * 3];
    for (int y = 0; y < 2; y++) {
      for (int x = 0; x < 2; x++) {
        for (int c = 0; c < 3; c++) {
          px[(y * 2 + x) * 3 + c] = (byte) (100 + 10 * y + 3 * x + c);
        }
      }
    }
    return Sample.newBuilder().setImageId("img").setClassIndex(classIndex).setImageSize(4).setCropSize(2)
        .setCropX(1).setCropY(2).setMirrored(mirrored).setLighting(List.of(0.5f, -1f, 2f)).setVariant(0)
        .setPixels(ByteBuffer.wrap(px)).build();
  }

  /** A side x side mean image of uniform values in [0, 255). */
  private static MeanImage randomMean(java.util.Random r, int side) {
    float[] m = new float[side * side * 3];
    for (int i = 0; i < m.length; i++) {
      m[i] = r.nextFloat() * 255;
    }
    return new MeanImage(side, side, m);
  }

  @Test
  void equalsThePlainPixelByPixelFormulaOnRandomCropsAlsoInARecycledArray() {
    java.util.Random r = new java.util.Random(3);
    int side = 11;
    int crop = 7;
    MeanImage mean = randomMean(r, side);
    float[] m = mean.pixels();
    BatchAssembler assembler = new BatchAssembler(mean, crop, 5);
    float[] previous = null;
    for (int trial = 0; trial < 20; trial++) {
      byte[] px = new byte[crop * crop * 3 + 5];
      r.nextBytes(px);
      int cx = r.nextInt(side - crop + 1);
      int cy = r.nextInt(side - crop + 1);
      boolean mirrored = r.nextBoolean();
      List<Float> light = List.of(r.nextFloat(), -r.nextFloat(), 2 * r.nextFloat());
      // the pixels sit at an offset inside a larger array, as a record's bytes do
      Sample s = Sample.newBuilder().setImageId("i" + trial).setClassIndex(trial % 5).setImageSize(side).setCropSize(crop)
          .setCropX(cx).setCropY(cy).setMirrored(mirrored).setLighting(light).setVariant(0)
          .setPixels(ByteBuffer.wrap(px, 5, crop * crop * 3).slice()).build();
      Batch batch = assembler.batch(List.of(s));
      float[] got = batch.features();
      if (previous != null) { // every value of the trial before is overwritten
        assertThat(got).as("the array handed back is filled again").isSameAs(previous);
      }
      for (int c = 0; c < 3; c++) {
        for (int y = 0; y < crop; y++) {
          for (int x = 0; x < crop; x++) {
            int xInImage = cx + (mirrored ? crop - 1 - x : x);
            float want = (px[5 + (y * crop + x) * 3 + c] & 0xFF) - m[((cy + y) * side + xInImage) * 3 + c] + light.get(c);
            assertThat(got[(c * crop + y) * crop + x]).as("trial %d c %d y %d x %d", trial, c, y, x).isEqualTo(want);
          }
        }
      }
      assembler.recycle(batch);
      previous = got;
    }
  }

  @Test
  void eightBitBatchesCarryTheCropsAndConvertToTheSameFloats() {
    java.util.Random r = new java.util.Random(4);
    int side = 13;
    int crop = 8;
    MeanImage mean = randomMean(r, side);
    BatchAssembler floats = new BatchAssembler(mean, crop, 5);
    BatchAssembler eightBit = new BatchAssembler(mean, crop, 5, BatchForm.PIXELS);
    byte[] previous = null;
    for (int trial = 0; trial < 3; trial++) {
      List<Sample> samples = new java.util.ArrayList<>();
      for (int i = 0; i < 4; i++) {
        byte[] px = new byte[crop * crop * 3 + 7];
        r.nextBytes(px);
        samples.add(Sample.newBuilder().setImageId("i" + i).setClassIndex(i).setImageSize(side).setCropSize(crop)
            .setCropX(r.nextInt(side - crop + 1)).setCropY(r.nextInt(side - crop + 1)).setMirrored(i % 2 == 0)
            .setLighting(List.of(r.nextFloat(), -r.nextFloat(), 3f)).setVariant(0)
            .setPixels(ByteBuffer.wrap(px, 7, crop * crop * 3).slice()).build());
      }
      Batch b = eightBit.batch(samples);
      assertThat(b.features()).isNull();
      assertThat(b.labels()).containsExactly(0, 1, 2, 3);
      byte[] px = b.pixels().pixels();
      for (int i = 0; i < samples.size(); i++) {
        byte[] want = new byte[crop * crop * 3];
        samples.get(i).getPixels().duplicate().get(want);
        assertThat(Arrays.copyOfRange(px, i * want.length, (i + 1) * want.length)).as("crop %d as it came", i).isEqualTo(want);
        assertThat(b.pixels().mirrored()[i]).isEqualTo(i % 2 == 0);
      }
      assertThat(b.toFeatures()).as("converted, the same floats as the float form").isEqualTo(floats.batch(samples).features());
      if (previous != null) {
        assertThat(px).as("the 8-bit array handed back is filled again").isSameAs(previous);
      }
      eightBit.recycle(b);
      previous = px;
    }
  }

  @Test
  void subtractsTheMirroredMeanCropAndAddsTheLighting() {
    BatchAssembler assembler = new BatchAssembler(MEAN, 2, 3);
    Batch batch = assembler.batch(List.of(sample(true, 2), sample(false, 0)));
    assertThat(batch.shape()).containsExactly(2, 3, 2, 2);
    float[] x = batch.features();
    // mirrored: crop column x comes from image column cropX + (1 - x); the crop starts at row 2
    // (c0,y0,x0): 100 - mean[(2*4 + 2)*3 + 0] + 0.5 = 100 - 30 + 0.5
    assertThat((double) x[((0 * 3 + 0) * 2 + 0) * 2 + 0]).isEqualTo(70.5);
    // (c1,y0,x1): 104 - mean[(2*4 + 1)*3 + 1] - 1 = 104 - 28 - 1
    assertThat((double) x[((0 * 3 + 1) * 2 + 0) * 2 + 1]).isEqualTo(75.0);
    // (c2,y1,x0): 112 - mean[(3*4 + 2)*3 + 2] + 2 = 112 - 44 + 2
    assertThat((double) x[((0 * 3 + 2) * 2 + 1) * 2 + 0]).isEqualTo(70.0);
    // (c2,y1,x1): 115 - mean[(3*4 + 1)*3 + 2] + 2 = 115 - 41 + 2
    assertThat((double) x[((0 * 3 + 2) * 2 + 1) * 2 + 1]).isEqualTo(76.0);
    // not mirrored: (c0,y0,x0) comes from image column 1: 100 - mean[(2*4 + 1)*3] + 0.5
    assertThat((double) x[((1 * 3 + 0) * 2 + 0) * 2 + 0]).isEqualTo(73.5);
    assertThat(batch.labels()).containsExactly(2, 0);
  }

  @Test
  void pixelsAreUnsignedBytes() {
    Sample s = sample(false, 0);
    s.getPixels().put(0, (byte) 250);
    float[] x = new BatchAssembler(MEAN, 2, 3).features(List.of(s));
    assertThat((double) x[((0 * 3 + 0) * 2 + 0) * 2 + 0]).isEqualTo(250 - 27 + 0.5);
  }

  @Test
  void unusableSamplesAreNamedWithTheReason() {
    BatchAssembler assembler = new BatchAssembler(MEAN, 2, 3);
    assertThat(assembler.problem(sample(false, 0))).isNull();
    assertThat(assembler.problem(sample(false, 7))).contains("class index 7");
    Sample wrongCrop = sample(false, 0);
    wrongCrop.setCropX(3);
    assertThat(assembler.problem(wrongCrop)).contains("outside the image");
    Sample truncated = sample(false, 0);
    truncated.setPixels(ByteBuffer.wrap(new byte[5]));
    assertThat(assembler.problem(truncated)).contains("5 pixel bytes");
    assertThatThrownBy(() -> assembler.features(List.of(truncated))).hasMessageContaining("image img");
  }
}
