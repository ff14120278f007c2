package org.alexkafka.augment.sample;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.alexkafka.augment.crop.CropGeometry;
import org.alexkafka.augment.crop.CropWindow;
import org.alexkafka.augment.crop.Cropper;
import org.alexkafka.augment.lighting.LightingMagnitude;
import org.alexkafka.augment.lighting.PcaLighting;
import org.alexkafka.augment.lighting.RgbPca;
import org.alexkafka.schemas.Sample;

/**
 * Turns one decoded, validated image into its samples: K training variants (random crop, random
 * reflection, PCA lighting shift), or the 10 test views for validation (no lighting: the paper
 * augments only training presentations).
 */
public final class SampleFactory {

  private final long runSeed;
  private final int variantsPerImage;
  private final int cropSize;
  private final double alphaStd;
  private final LightingMagnitude magnitude;

  public SampleFactory(long runSeed, int variantsPerImage, int cropSize, double alphaStd, LightingMagnitude magnitude) {
    if (variantsPerImage < 1) {
      throw new IllegalArgumentException("variants per image must be at least 1, got " + variantsPerImage);
    }
    this.runSeed = runSeed;
    this.variantsPerImage = variantsPerImage;
    this.cropSize = cropSize;
    this.alphaStd = alphaStd;
    this.magnitude = magnitude;
  }

  /** The pixels of a source image, without copying: a backing array and where the image starts in it. */
  public record Pixels(byte[] array, int offset, int imageSize) {
    public static Pixels of(ByteBuffer buffer, int imageSize) {
      if (buffer.hasArray()) {
        return new Pixels(buffer.array(), buffer.arrayOffset() + buffer.position(), imageSize);
      }
      byte[] copy = new byte[buffer.remaining()];
      buffer.duplicate().get(copy);
      return new Pixels(copy, 0, imageSize);
    }
  }

  /** Identity of the image the samples come from. */
  public record Source(String imageId, int classIndex, String label) {}

  /** Training variant {@code variant} (0..K-1) of one image. */
  public Sample trainingVariant(Source source, Pixels pixels, int variant, RgbPca pca) {
    CropGeometry geometry = new CropGeometry(pixels.imageSize(), cropSize);
    Random random = VariantSeeds.random(runSeed, source.imageId(), variant);
    CropWindow window = geometry.randomTrainingCrop(random);
    float[] shift = PcaLighting.shift(pca, PcaLighting.drawAlphas(random, alphaStd), magnitude);
    return sample(source, pixels, window, shift, variant, 1);
  }

  public List<Sample> trainingVariants(Source source, Pixels pixels, RgbPca pca) {
    List<Sample> out = new ArrayList<>(variantsPerImage);
    for (int v = 0; v < variantsPerImage; v++) {
      out.add(trainingVariant(source, pixels, v, pca));
    }
    return out;
  }

  /** The 10 test views; view 0 is the centre crop. */
  public List<Sample> testViews(Source source, Pixels pixels) {
    List<CropWindow> views = new CropGeometry(pixels.imageSize(), cropSize).testViews();
    List<Sample> out = new ArrayList<>(views.size());
    for (int v = 0; v < views.size(); v++) {
      out.add(sample(source, pixels, views.get(v), new float[3], v, views.size()));
    }
    return out;
  }

  public int variantsPerImage() {
    return variantsPerImage;
  }

  private Sample sample(Source source, Pixels pixels, CropWindow window, float[] shift, int variant, int views) {
    byte[] crop = Cropper.crop(pixels.array(), pixels.offset(), pixels.imageSize(), window);
    return Sample.newBuilder()
        .setImageId(source.imageId())
        .setClassIndex(source.classIndex())
        .setLabel(source.label())
        .setImageSize(pixels.imageSize())
        .setCropSize(window.size())
        .setCropX(window.x())
        .setCropY(window.y())
        .setMirrored(window.mirrored())
        .setLighting(List.of(shift[0], shift[1], shift[2]))
        .setVariant(variant)
        .setViews(views)
        .setPixels(ByteBuffer.wrap(crop))
        .build();
  }
}
