package org.alexkafka.trainer.train;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.alexkafka.schemas.Sample;
import org.alexkafka.trainer.data.BatchAssembler;
import org.alexkafka.trainer.data.MeanImage;
import org.alexkafka.trainer.eval.TopK;
import org.alexkafka.trainer.model.AlexNet;
import org.alexkafka.trainer.model.AlexNetSpec;
import org.alexkafka.trainer.support.TestData;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;

class ScratchLearnTest {
  @Test
  void scratch() throws Exception {
    var train = TestData.imagenette("train", 10, 60, 72);
    List<Sample> samples = new ArrayList<>(TestData.trainSamples(train, 72, 64, 2, 5));
    Collections.shuffle(samples, new Random(1));
    BatchAssembler a = new BatchAssembler(MeanImage.of(TestData.stats(train, 72)), 64, 10);
    for (double lr : new double[] {Double.parseDouble(System.getProperty("lr", "0.01"))}) {
      ComputationGraph net = AlexNet.build(AlexNetSpec.small(10, 64));
      net.setLearningRate(lr);
      int b = Integer.parseInt(System.getProperty("batch", "32"));
      long t0 = System.nanoTime();
      double lossSum = 0; double accSum = 0;
      for (int it = 0; it < 150; it++) {
        int from = (it * b) % (samples.size() - b);
        DataSet ds = a.assemble(samples.subList(from, from + b));
        net.fit(ds);
        lossSum += net.score();
        if ((it + 1) % 15 == 0) {
          double[] acc = TopK.accuracy(net.outputSingle(false, ds.getFeatures()), ds.getLabels());
          System.out.printf("SCRATCH lr %.3f it %d loss %.3f top1 %.3f  %.2f s/step%n", lr, it + 1, lossSum / 15, acc[0], (System.nanoTime() - t0) / 1e9 / (it + 1));
          lossSum = 0;
        }
      }
    }
  }
}
