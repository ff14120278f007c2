package org.alexkafka.trainer.data;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.stream.IntStream;
import org.alexkafka.schemas.Sample;
import org.alexkafka.trainer.engine.Batch;
import org.alexkafka.trainer.engine.InputMean;
import org.alexkafka.trainer.engine.PixelCrops;

/**
 * Turns samples into one network batch, in the form the engine takes ({@link BatchForm}): float NCHW,
 * the 8-bit interleaved RGB crops minus the mean image's matching crop (mirrored when the sample
 * is), plus the sample's lighting shift, all in one float[]; or the 8-bit crops copied side by side
 * with what converts them, for an engine that converts on its GPU ({@link PixelCrops}).
 *
 * <p>A paper batch's float array is 77 MB (128 x 3 x 224 x 224 floats). Allocated afresh for every
 * batch, each one is a humongous G1 object on memory the kernel must first map: the heap grows to
 * its limit and the time goes into page faults. So the arrays of batches handed back with {@link
 * #recycle} are kept (a few per size) and filled again; every element is overwritten, so none
 * needs clearing. The same holds for the 8-bit form's 19 MB arrays.
 */
public final class BatchAssembler {

  private final MeanImage mean;
  private final InputMean inputMean;
  private final int cropSize;
  private final int classes;
  private final BatchForm form;
  /** Arrays of recycled batches by length: the feeds' threads take them, the trainer's thread gives them back. */
  private final Map<Integer, ConcurrentLinkedDeque<float[]>> spare = new ConcurrentHashMap<>();
  private final Map<Integer, ConcurrentLinkedDeque<byte[]>> sparePixels = new ConcurrentHashMap<>();
  /** Kept per length: the batches in flight (one training, one or two assembled ahead) and one being filled. */
  static final int SPARE_PER_SIZE = 4;
  /** The training samples' pixel buffers, for the training readers to decode into again. */
  private final PixelBuffers pixelBuffers = new PixelBuffers(PixelBuffers.DEFAULT_CAPACITY);

  /** Float batches. */
  public BatchAssembler(MeanImage mean, int cropSize, int classes) {
    this(mean, cropSize, classes, BatchForm.FLOATS);
  }

  /** @param form FLOATS or PIXELS (resolve AUTO first: {@link BatchForm#forEngine}) */
  public BatchAssembler(MeanImage mean, int cropSize, int classes, BatchForm form) {
    if (form == BatchForm.AUTO) {
      throw new IllegalArgumentException("resolve the batch form for the engine first");
    }
    if (cropSize > mean.width() || cropSize > mean.height()) {
      throw new IllegalArgumentException("crop " + cropSize + " does not fit the " + mean.width() + "x" + mean.height() + " mean image");
    }
    this.mean = mean;
    this.inputMean = new InputMean(mean.width(), mean.height(), mean.pixels());
    this.cropSize = cropSize;
    this.classes = classes;
    this.form = form;
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

  /** The samples as one engine batch, in this assembler's form: features [n, 3, crop, crop] (or the crops) and class indices. */
  public Batch batch(List<Sample> samples) {
    int[] labels = new int[samples.size()];
    for (int b = 0; b < samples.size(); b++) {
      labels[b] = samples.get(b).getClassIndex();
    }
    if (form == BatchForm.PIXELS) {
      return Batch.ofPixels(cropSize, pixels(samples), labels);
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
    if (batch.pixels() != null) {
      keep(sparePixels, batch.pixels().pixels().length, batch.pixels().pixels());
    } else {
      keep(spare, batch.features().length, batch.features());
    }
  }

  private static <A> void keep(Map<Integer, ConcurrentLinkedDeque<A>> spares, int length, A array) {
    ConcurrentLinkedDeque<A> kept = spares.computeIfAbsent(length, n -> new ConcurrentLinkedDeque<>());
    if (kept.size() < SPARE_PER_SIZE) {
      kept.push(array);
    }
  }

  private static <A> A reused(Map<Integer, ConcurrentLinkedDeque<A>> spares, int length) {
    ConcurrentLinkedDeque<A> kept = spares.get(length);
    return kept == null ? null : kept.poll();
  }

  /** The crops side by side, 8-bit as they came, with their positions, mirror flags and lighting. */
  public PixelCrops pixels(List<Sample> samples) {
    check(samples);
    int n = samples.size();
    int values = cropSize * cropSize * 3;
    byte[] reused = reused(sparePixels, n * values);
    byte[] out = reused != null ? reused : new byte[n * values];
    int[] cropX = new int[n];
    int[] cropY = new int[n];
    boolean[] mirrored = new boolean[n];
    float[] lighting = new float[3 * n];
    for (int b = 0; b < n; b++) {
      Sample s = samples.get(b);
      s.getPixels().duplicate().get(out, b * values, values);
      cropX[b] = s.getCropX();
      cropY[b] = s.getCropY();
      mirrored[b] = s.getMirrored();
      for (int c = 0; c < 3; c++) {
        lighting[3 * b + c] = s.getLighting().get(c);
      }
    }
    return new PixelCrops(out, cropX, cropY, mirrored, lighting, inputMean);
  }

  private void check(List<Sample> samples) {
    for (Sample s : samples) {
      String problem = problem(s);
      if (problem != null) {
        throw new IllegalArgumentException("sample of image " + s.getImageId() + ": " + problem);
      }
    }
  }

  /** Features [n, 3, crop, crop], NCHW, row-major. */
  public float[] features(List<Sample> samples) {
    int plane = cropSize * cropSize;
    int length = samples.size() * 3 * plane;
    check(samples);
    float[] reused = reused(spare, length);
    float[] out = reused != null ? reused : new float[length];
    // The samples are independent: spread over the cores (a paper batch is 19 M values to write).
    IntStream.range(0, samples.size()).parallel().forEach(b -> fill(samples.get(b), out, b * 3 * plane));
    return out;
  }

  /** One sample into {@code out} at {@code base}: out = pixel − mean + lighting ({@link InputMean#fill}). */
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
    List<Float> l = s.getLighting();
    inputMean.fill(px, start, cropSize, s.getCropX(), s.getCropY(), s.getMirrored(), new float[] {l.get(0), l.get(1), l.get(2)}, 0,
        out, base);
  }
}
