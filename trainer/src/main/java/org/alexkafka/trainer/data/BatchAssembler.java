package org.alexkafka.trainer.data;

import java.nio.ByteBuffer;
import java.util.List;
import org.alexkafka.schemas.Sample;
import org.alexkafka.trainer.engine.Batch;

/**
 * Turns samples into one network batch: 8-bit interleaved RGB crops become float NCHW, minus the
 * mean image's matching crop (mirrored when the sample is), plus the sample's lighting shift.
 * Everything is written into one float[], the form every engine takes ({@link Batch}).
 */
public final class BatchAssembler {

  private final MeanImage mean;
  private final int cropSize;
  private final int classes;

  public BatchAssembler(MeanImage mean, int cropSize, int classes) {
    if (cropSize > mean.width() || cropSize > mean.height()) {
      throw new IllegalArgumentException("crop " + cropSize + " does not fit the " + mean.width() + "x" + mean.height() + " mean image");
    }
    this.mean = mean;
    this.cropSize = cropSize;
    this.classes = classes;
  }

  public int cropSize() {
    return cropSize;
  }

  public int classes() {
    return classes;
  }

  /** Why this sample cannot be trained on, or null when it can. */
  public String problem(Sample s) {
    if (s.getCropSize() != cropSize) {
      return "crop size " + s.getCropSize() + " but the network takes " + cropSize;
    }
    if (s.getImageSize() != mean.width() || s.getImageSize() != mean.height()) {
      return "cut from a " + s.getImageSize() + " image but the mean image is " + mean.width() + "x" + mean.height();
    }
    if (s.getCropX() < 0 || s.getCropY() < 0 || s.getCropX() + cropSize > mean.width() || s.getCropY() + cropSize > mean.height()) {
      return "crop at (" + s.getCropX() + "," + s.getCropY() + ") lies outside the image";
    }
    if (s.getPixels().remaining() != cropSize * cropSize * 3) {
      return s.getPixels().remaining() + " pixel bytes, expected " + cropSize * cropSize * 3;
    }
    if (s.getLighting().size() != 3) {
      return "lighting has " + s.getLighting().size() + " values, expected 3";
    }
    if (s.getClassIndex() < 0 || s.getClassIndex() >= classes) {
      return "class index " + s.getClassIndex() + " outside 0.." + (classes - 1);
    }
    return null;
  }

  /** The samples as one engine batch: features [n, 3, crop, crop] and class indices. */
  public Batch batch(List<Sample> samples) {
    int[] labels = new int[samples.size()];
    for (int b = 0; b < samples.size(); b++) {
      labels[b] = samples.get(b).getClassIndex();
    }
    return new Batch(samples.size(), 3, cropSize, cropSize, features(samples), labels);
  }

  /** Features [n, 3, crop, crop], NCHW, row-major. */
  public float[] features(List<Sample> samples) {
    int plane = cropSize * cropSize;
    float[] out = new float[samples.size() * 3 * plane];
    for (int b = 0; b < samples.size(); b++) {
      Sample s = samples.get(b);
      String problem = problem(s);
      if (problem != null) {
        throw new IllegalArgumentException("sample of image " + s.getImageId() + ": " + problem);
      }
      fill(s, out, b * 3 * plane);
    }
    return out;
  }

  private void fill(Sample s, float[] out, int base) {
    ByteBuffer px = s.getPixels().duplicate();
    int start = px.position();
    float[] m = mean.pixels();
    int plane = cropSize * cropSize;
    int width = mean.width();
    float lr = s.getLighting().get(0);
    float lg = s.getLighting().get(1);
    float lb = s.getLighting().get(2);
    boolean mirrored = s.getMirrored();
    for (int y = 0; y < cropSize; y++) {
      int rowInImage = (s.getCropY() + y) * width;
      for (int x = 0; x < cropSize; x++) {
        // the pixels are already mirrored: crop column x came from image column cropX + (crop-1-x)
        int xInImage = s.getCropX() + (mirrored ? cropSize - 1 - x : x);
        int mi = (rowInImage + xInImage) * 3;
        int pi = start + (y * cropSize + x) * 3;
        int o = base + y * cropSize + x;
        out[o] = (px.get(pi) & 0xFF) - m[mi] + lr;
        out[o + plane] = (px.get(pi + 1) & 0xFF) - m[mi + 1] + lg;
        out[o + 2 * plane] = (px.get(pi + 2) & 0xFF) - m[mi + 2] + lb;
      }
    }
  }
}
