package org.alexkafka.trainer.eval;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.alexkafka.schemas.Sample;
import org.alexkafka.schemas.config.KafkaConnection;
import org.alexkafka.schemas.topics.Topics;
import org.alexkafka.trainer.data.BatchAssembler;
import org.alexkafka.trainer.data.MeanImage;
import org.alexkafka.trainer.engine.Engine;
import org.alexkafka.trainer.engine.dl4j.Dl4jEngine;
import org.alexkafka.trainer.model.AlexNetSpec;
import org.alexkafka.trainer.support.TestData;
import org.alexkafka.trainer.support.TestData.SmallImage;
import org.junit.jupiter.api.Test;

/**
 * The evaluator on the real broker, above all its cache of the validation samples between
 * evaluations: it must give what a fresh evaluator gives, and see every view appended since.
 */
class EvaluatorIT {

  private static final int IMAGE = 72;
  private static final int CROP = 64;
  private static final int CLASSES = 4;

  @Test
  void cachedEvaluationsMatchFreshOnesAndSeeAppendedViews() throws Exception {
    Topics topics = TestData.freshTopics("evaluator-it");
    List<SmallImage> images = TestData.imagenette("val", CLASSES, 10, IMAGE);
    List<SmallImage> first = new ArrayList<>();
    List<SmallImage> later = new ArrayList<>();
    for (int i = 0; i < images.size(); i++) {
      (i % 5 == 4 ? later : first).add(images.get(i));
    }
    TestData.publishAsAugment(topics.samplesVal(), TestData.valViews(first, IMAGE, CROP), 40, false);
    KafkaConnection kafka = new KafkaConnection(TestData.bootstrap(), topics);
    BatchAssembler assembler = new BatchAssembler(MeanImage.of(TestData.stats(images, IMAGE)), CROP, CLASSES);
    Engine net = new Dl4jEngine(AlexNetSpec.small(CLASSES, CROP).withSeed(3), 1);

    Evaluator kept = new Evaluator(kafka, assembler, 32);
    List<String> centreIds = new ArrayList<>();
    EvalResult read = kept.evaluate(net, (sample, p) -> centreIds.add(sample.getImageId().toString()));
    List<String> cachedCentreIds = new ArrayList<>();
    EvalResult cached = kept.evaluate(net, (sample, p) -> cachedCentreIds.add(sample.getImageId().toString()));
    EvalResult fresh = new Evaluator(kafka, assembler, 32).evaluate(net);

    assertThat(read.images()).isEqualTo(first.size());
    assertThat(read.tenViewImages()).isEqualTo(first.size());
    assertThat(cached).isEqualTo(read).isEqualTo(fresh);
    assertThat(cachedCentreIds).containsExactlyElementsOf(centreIds);

    // views appended since: the cache is stale and must not hide them
    List<Sample> more = TestData.valViews(later, IMAGE, CROP);
    TestData.publishAsAugment(topics.samplesVal(), more, 40, false);
    EvalResult grown = kept.evaluate(net);
    assertThat(grown.images()).isEqualTo(images.size());
    assertThat(grown.tenViewImages()).isEqualTo(images.size());
    assertThat(grown).isEqualTo(new Evaluator(kafka, assembler, 32).evaluate(net));
  }
}
