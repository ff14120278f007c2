package org.alexkafka.trainer.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.alexkafka.schemas.Sample;
import org.junit.jupiter.api.Test;

/** Centre-crop and multi-view scoring on hand-made softmax outputs (6 classes, 3 views per image). */
class EvaluatorScoresTest {

  private static Sample view(String image, int label, int variant) {
    return Sample.newBuilder().setImageId(image).setClassIndex(label).setImageSize(8).setCropSize(4).setCropX(0)
        .setCropY(0).setMirrored(false).setLighting(List.of(0f, 0f, 0f)).setVariant(variant).setViews(3)
        .setPixels(ByteBuffer.wrap(new byte[48])).build();
  }

  @Test
  void centreAndViewAverageAreScoredSeparately() {
    Evaluator.Scores scores = new Evaluator.Scores(6);
    List<Sample> batch = new ArrayList<>();
    List<float[]> probs = new ArrayList<>();
    // image a, label 0: centre says class 1 (wrong, but class 0 second); the other views say 0 strongly
    batch.add(view("a", 0, 0));
    probs.add(new float[] {0.3f, 0.4f, 0.1f, 0.1f, 0.05f, 0.05f});
    batch.add(view("a", 0, 1));
    probs.add(new float[] {0.9f, 0.02f, 0.02f, 0.02f, 0.02f, 0.02f});
    // image b, label 5: centre right; the other views put classes 0-3 ahead on average (label 5th)
    batch.add(view("b", 5, 0));
    probs.add(new float[] {0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.5f});
    batch.add(view("a", 0, 2));
    probs.add(new float[] {0.8f, 0.04f, 0.04f, 0.04f, 0.04f, 0.04f});
    batch.add(view("b", 5, 1));
    probs.add(new float[] {0.25f, 0.25f, 0.25f, 0.25f, 0f, 0f});
    batch.add(view("b", 5, 1)); // a duplicate view: counted once
    probs.add(new float[] {0f, 0f, 1f, 0f, 0f, 0f});
    batch.add(view("b", 5, 2));
    probs.add(new float[] {0.25f, 0.25f, 0.25f, 0.25f, 0f, 0f});
    // image c: only the centre arrived
    batch.add(view("c", 3, 0));
    probs.add(new float[] {0.5f, 0.1f, 0.1f, 0.05f, 0.1f, 0.15f});
    float[] flat = new float[probs.size() * 6];
    for (int i = 0; i < probs.size(); i++) {
      System.arraycopy(probs.get(i), 0, flat, i * 6, 6);
    }
    scores.add(batch, flat);
    EvalResult r = scores.result();
    assertThat(r.images()).isEqualTo(3);
    assertThat(r.centreTop1Error()).isCloseTo(2.0 / 3, within(1e-9)); // only b's centre is right
    assertThat(r.centreTop5Error()).isCloseTo(1.0 / 3, within(1e-9)); // c's label ranks 6th of 6
    assertThat(r.tenViewImages()).isEqualTo(2);
    assertThat(r.tenViewTop1Error()).isCloseTo(0.5, within(1e-9)); // a right on average, b wrong
    // b on average: classes 0-3 0.6 each, label 5 0.5: 5th, inside the top 5
    assertThat(r.tenViewTop5Error()).isZero();
    assertThat(r.incomplete()).isEqualTo(1);
  }
}
