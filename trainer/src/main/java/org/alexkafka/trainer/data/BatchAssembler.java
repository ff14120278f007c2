package org.alexkafka.trainer.data;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.stream.IntStream;
import org.alexkafka.schemas.Sample;
import org.alexkafka.trainer.engine.Batch;

/**
 * Turns samples into one network batch: 8-bit interleaved RGB crops become float NCHW, minus the
 * mean image's matching crop (mirrored when the sample is), plus the sample's lighting shift.
 * Everything is written into one float[], the form every engine takes ({@link Batch}).
 *
 * <p>A paper batch's array is 77 MB (128 x 3 x 224 x 224 floats). Allocated afresh for every batch,
 * each one is a humongous G1 object on memory the kernel must first map: the heap grows to its limit
 * and the time goes into page faults. So the arrays of batches handed back with {@link #recycle} are
 * kept (a few per size) and filled again; every element is overwritten, so none needs clearing.
 */
public final class BatchAssembler {

  private final MeanImage mean;
  private final int cropSize;
  private final int classes;
  /** The mean image as 3 planes (R, G, B), and the same flipped left to right: a crop's rows are then contiguous runs. */
  private final float[][] meanPlanes;
  private final float[][] mirroredMeanPlanes;
  /** Arrays of recycled batches by length: the feeds' threads take them, the trainer's thread gives them back. */
  private final Map<Integer, ConcurrentLinkedDeque<float[]>> spare = new ConcurrentHashMap<>();
  /** Kept per length: the batches in flight (one training, one or two assembled ahead) and one being filled. */
  static final int SPARE_PER_SIZE = 4;
  /** The training samples' pixel buffers, for the training readers to decode into again. */
  private final PixelBuffers pixelBuffers = new PixelBuffers(PixelBuffers.DEFAULT_CAPACITY);

  public BatchAssembler(MeanImage mean, int cropSize, int classes) {
    if (cropSize > mean.width() || cropSize > mean.height()) {
      throw new IllegalArgumentException("crop " + cropSize + " does not fit the " + mean.width() + "x" + mean.height() + " mean image");
    }
    this.mean = mean;
    this.cropSize = cropSize;
    this.classes = classes;
    int w = mean.width();
    int h = mean.height();
    this.meanPlanes = new float[3][w * h];
    this.mirroredMeanPlanes = new float[3][w * h];
    float[] m = mean.pixels();
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        for (int c = 0; c < 3; c++) {
          float v = m[(y * w + x) * 3 + c];
          meanPlanes[c][y * w + x] = v;
          mirroredMeanPlanes[c][y * w + (w - 1 - x)] = v;
        }
      }
    }
  }

  public int cropSize() {
    return cropSize;
  }

  public int classes() {
    return classes;
  }

  /** Where the batch feed gives back the pixel buffers of what it assembled, and the training readers take them. */
  public PixelBuffers pixelBuffers() {
    return pixelBuffers;
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

  /**
   * Gives a batch's array back for a later batch of the same size. Only once nothing reads the batch
   * any more: the engines copy a batch into their own memory, so that is after its step or
   * prediction.
   */
  public void recycle(Batch batch) {
    if (batch == null) {
      return;
    }
    ConcurrentLinkedDeque<float[]> kept = spare.computeIfAbsent(batch.features().length, n -> new ConcurrentLinkedDeque<>());
    if (kept.size() < SPARE_PER_SIZE) {
      kept.push(batch.features());
    }
  }

  /** Features [n, 3, crop, crop], NCHW, row-major. */
  public float[] features(List<Sample> samples) {
    int plane = cropSize * cropSize;
    int length = samples.size() * 3 * plane;
    ConcurrentLinkedDeque<float[]> kept = spare.get(length);
    float[] reused = kept == null ? null : kept.poll();
    float[] out = reused != null ? reused : new float[length];
    for (Sample s : samples) {
      String problem = problem(s);
      if (problem != null) {
        throw new IllegalArgumentException("sample of image " + s.getImageId() + ": " + problem);
      }
    }
    // The samples are independent: spread over the cores (a paper batch is 19 M values to write).
    IntStream.range(0, samples.size()).parallel().forEach(b -> fill(samples.get(b), out, b * 3 * plane));
    return out;
  }

  /**
   * One sample into {@code out} at {@code base}, a plane at a time: out = pixel − mean + lighting.
   * The pixels are already mirrored when the sample is (crop column x came from image column
   * cropX + crop − 1 − x), which in the flipped mean is column (width − cropX − crop) + x: so both
   * the output and the mean are read in runs, which the JIT compiles to tight loops.
   */
  private void fill(Sample s, float[] out, int base) {
    ByteBuffer buf = s.getPixels();
    byte[] px;
    int start;
    if (buf.hasArray()) {
      px = buf.array();
      start = buf.arrayOffset() + buf.position();
    } else {
      px = new byte[buf.remaining()];
      buf.duplicate().get(px);
      start = 0;
    }
    int plane = cropSize * cropSize;
    int width = mean.width();
    boolean mirrored = s.getMirrored();
    float[][] planes = mirrored ? mirroredMeanPlanes : meanPlanes;
    int x0 = mirrored ? width - s.getCropX() - cropSize : s.getCropX();
    for (int c = 0; c < 3; c++) {
      float light = s.getLighting().get(c);
      float[] m = planes[c];
      int o = base + c * plane;
      for (int y = 0; y < cropSize; y++) {
        int mi = (s.getCropY() + y) * width + x0;
        int pi = start + y * cropSize * 3 + c;
        for (int x = 0; x < cropSize; x++) {
          out[o + x] = (px[pi + 3 * x] & 0xFF) - m[mi + x] + light;
        }
        o += cropSize;
      }
    }
  }
}
