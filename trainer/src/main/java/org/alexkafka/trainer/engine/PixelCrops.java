package org.alexkafka.trainer.engine;

/**
 * A batch's crops as they come from Kafka, a quarter of the size of the float features: 8-bit
 * interleaved RGB ({@code size} x crop x crop x 3, row-major, already mirrored where a crop is),
 * with what turns each into the network's input: where it was cut (for the mean image's matching
 * crop), whether it is mirrored, and its lighting shift (3 per crop). An engine on a GPU converts
 * them there ({@code engine.torch}): the host then neither computes nor copies the float batch.
 */
public record PixelCrops(byte[] pixels, int[] cropX, int[] cropY, boolean[] mirrored, float[] lighting, InputMean mean) {

  public PixelCrops {
    int n = cropX.length;
    if (cropY.length != n || mirrored.length != n || lighting.length != 3 * n) {
      throw new IllegalArgumentException("crop positions, mirror flags and lighting (3 each) must describe the same " + n
          + " crops");
    }
  }

  public int size() {
    return cropX.length;
  }

  /** The features these crops make, float NCHW (what {@link #fillFeatures} writes), here on the caller's thread. */
  public float[] features(int crop) {
    float[] out = new float[size() * 3 * crop * crop];
    fillFeatures(crop, out);
    return out;
  }

  /** Writes the features, float NCHW, into {@code out}: pixel − mean + lighting, as {@link InputMean#fill}. */
  public void fillFeatures(int crop, float[] out) {
    int values = crop * crop * 3;
    if (pixels.length < size() * values || out.length < size() * values) {
      throw new IllegalArgumentException(size() + " crops of " + crop + "x" + crop + " need " + size() * values
          + " pixels and values");
    }
    for (int b = 0; b < size(); b++) {
      mean.fill(pixels, b * values, crop, cropX[b], cropY[b], mirrored[b], lighting, 3 * b, out, b * values);
    }
  }
}
