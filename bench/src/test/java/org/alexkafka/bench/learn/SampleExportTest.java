package org.alexkafka.bench.learn;

import org.alexkafka.trainer.checkpoint.Npy;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.alexkafka.schemas.Sample;
import org.alexkafka.trainer.data.BatchAssembler;
import org.alexkafka.trainer.data.MeanImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SampleExportTest {

  static final int IMAGE = 9;
  static final int CROP = 5;
  static final Path PYTHON = Path.of("/usr/bin/python3");

  @TempDir
  Path tmp;

  static Sample sample(Random r, String image, int classIndex, int variant, int views, boolean mirrored) {
    byte[] px = new byte[CROP * CROP * 3];
    r.nextBytes(px);
    return Sample.newBuilder().setImageId(image).setClassIndex(classIndex).setImageSize(IMAGE).setCropSize(CROP)
        .setCropX(r.nextInt(IMAGE - CROP + 1)).setCropY(r.nextInt(IMAGE - CROP + 1)).setMirrored(mirrored)
        .setLighting(List.of(r.nextFloat() * 4 - 2, r.nextFloat() * 4 - 2, r.nextFloat() * 4 - 2)).setVariant(variant)
        .setViews(views).setPixels(ByteBuffer.wrap(px)).build();
  }

  static MeanImage mean(Random r) {
    float[] m = new float[IMAGE * IMAGE * 3];
    for (int i = 0; i < m.length; i++) {
      m[i] = r.nextFloat() * 255;
    }
    return new MeanImage(IMAGE, IMAGE, m);
  }

  private record Exported(MeanImage mean, List<Sample> train, List<Sample> val) {
  }

  private Exported export(Path dir) throws Exception {
    Random r = new Random(11);
    MeanImage mean = mean(r);
    List<Sample> train = new ArrayList<>();
    SampleExport.Split trainSplit = new SampleExport.Split(false, CROP);
    for (int i = 0; i < 7; i++) {
      Sample s = sample(r, "img" + (i / 2), i % 3, i % 2, 1, i % 3 == 0);
      train.add(s);
      trainSplit.add(s);
    }
    List<Sample> val = new ArrayList<>();
    SampleExport.Split valSplit = new SampleExport.Split(true, CROP);
    for (String image : List.of("a", "b")) {
      for (int v = 0; v < 3; v++) {
        Sample s = sample(r, image, image.equals("a") ? 1 : 2, v, 3, v == 2);
        val.add(s);
        valSplit.add(s);
      }
    }
    valSplit.add(val.get(1)); // a view published twice counts once
    Map<String, Object> about = new LinkedHashMap<>();
    about.put("classes", 3);
    about.put("crop_size", CROP);
    about.put("trainer_config", SampleExport.components(new Nested("x", new Inner(2, 0.5))));
    SampleExport.Summary summary = SampleExport.write(dir, mean, trainSplit, valSplit, 1, about);
    assertThat(summary.trainSamples()).isEqualTo(7);
    assertThat(summary.valViews()).isEqualTo(6);
    assertThat(summary.valImages()).isEqualTo(2);
    return new Exported(mean, train, val);
  }

  record Inner(int patience, double threshold) {
  }

  record Nested(String kind, Inner lr) {
  }

  @Test
  void theFilesHoldTheSamplesInTheOrderRead() throws Exception {
    Exported e = export(tmp);
    Npy.Array px = Npy.read(tmp.resolve("train_pixels.npy"));
    assertThat(px.shape()).containsExactly(7, CROP, CROP, 3);
    byte[] third = new byte[CROP * CROP * 3];
    e.train().get(2).getPixels().duplicate().get(third);
    assertThat(java.util.Arrays.copyOfRange(px.data(), 2 * third.length, 3 * third.length)).containsExactly(third);
    int[] info = Npy.read(tmp.resolve("train_info.npy")).ints();
    Sample s3 = e.train().get(3);
    assertThat(java.util.Arrays.copyOfRange(info, 3 * 5, 4 * 5))
        .containsExactly(s3.getClassIndex(), s3.getCropX(), s3.getCropY(), s3.getMirrored() ? 1 : 0, s3.getVariant());
    float[] light = Npy.read(tmp.resolve("train_lighting.npy")).floats();
    assertThat(light[3 * 3 + 2]).isEqualTo(s3.getLighting().get(2));
    assertThat(Npy.read(tmp.resolve("mean.npy")).floats()).containsExactly(e.mean().pixels());
    assertThat(Npy.read(tmp.resolve("mean.npy")).shape()).containsExactly(IMAGE, IMAGE, 3);

    int[] val = Npy.read(tmp.resolve("val_info.npy")).ints();
    assertThat(val).hasSize(6 * 7);
    // image b's view 2: class 2, mirrored, view 2 of 3, image number 1
    int[] b2 = java.util.Arrays.copyOfRange(val, 5 * 7, 6 * 7);
    assertThat(b2[0]).isEqualTo(2);
    assertThat(b2).endsWith(1, 2, 3, 1);

    JsonNode meta = new ObjectMapper().readTree(tmp.resolve(SampleExport.META).toFile());
    assertThat(meta.path("train_samples").asInt()).isEqualTo(7);
    assertThat(meta.path("val_images").asInt()).isEqualTo(2);
    assertThat(meta.path("rejected").asInt()).isEqualTo(1);
    assertThat(meta.path("image_size").asInt()).isEqualTo(IMAGE);
    assertThat(meta.path("trainer_config").path("lr").path("patience").asInt()).isEqualTo(2);
  }

  /** The peer builds the very batch BatchAssembler builds: same mean crop, mirroring, lighting. */
  @Test
  void thePeerBuildsTheTrainersBatches() throws Exception {
    assumeTrue(Files.isExecutable(PYTHON), "no " + PYTHON);
    Path script = LearnBenchTestSupport.script();
    assumeTrue(script != null, "bench/learn_torch.py not found");
    Exported e = export(tmp);
    String code = String.join("\n",
        "import sys, numpy as np",
        "sys.path.insert(0, sys.argv[1])",
        "import learn_torch as lt",
        "mean = np.load(sys.argv[2] + '/mean.npy')",
        "for split in ('train', 'val'):",
        "    d = lt.Data(sys.argv[2], split, mean, " + CROP + ")",
        "    np.save(sys.argv[2] + '/' + split + '_batch.npy', d.batch(np.arange(len(d))).numpy())");
    Process p = new ProcessBuilder(PYTHON.toString(), "-c", code, script.getParent().toString(), tmp.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assumeTrue(p.waitFor(120, TimeUnit.SECONDS), "python timed out");
    assumeTrue(!out.contains("ModuleNotFoundError"), "python lacks numpy or torch: " + out);
    assertThat(p.exitValue()).as(out).isZero();

    BatchAssembler assembler = new BatchAssembler(e.mean(), CROP, 3);
    for (var split : List.of(Map.entry("train", e.train()), Map.entry("val", e.val()))) {
      Npy.Array torch = Npy.read(tmp.resolve(split.getKey() + "_batch.npy"));
      float[] java = assembler.features(split.getValue());
      assertThat(torch.shape()).containsExactly(split.getValue().size(), 3, CROP, CROP);
      assertThat(torch.floats()).as(split.getKey()).containsExactly(java); // bit for bit
    }
  }
}
