package org.alexkafka.trainer.engine.dl4j;

import static org.assertj.core.api.Assertions.assertThat;

import org.alexkafka.trainer.engine.dl4j.AlexNet;
import org.alexkafka.trainer.model.AlexNetSpec;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/** Two workers on CPU: the same steps as one device with the whole batch. */
class DataParallelTest {

  @Test
  void twoWorkersTakeTheSameStepsAsOneDeviceWithTheGlobalBatch() {
    AlexNetSpec spec = AlexNetSpec.small(6, 64).withDropout(0); // dropout masks differ by design; all else must match
    ComputationGraph single = AlexNet.build(spec);
    ComputationGraph master = AlexNet.build(spec);
    assertThat(master.params()).isEqualTo(single.params());
    Nd4j.getRandom().setSeed(5);
    try (DataParallel parallel = new DataParallel(master, 2)) {
      for (int step = 0; step < 3; step++) {
        INDArray x = Nd4j.randn(DataType.FLOAT, 10, 3, 64, 64).muli(50);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 10, 6);
        for (int i = 0; i < 10; i++) {
          y.putScalar(i, (i + step) % 6, 1);
        }
        DataSet batch = new DataSet(x, y);
        single.fit(batch);
        double score = parallel.fit(batch, step);
        assertThat(score).isCloseTo(single.score(), org.assertj.core.api.Assertions.within(1e-4));
        double change = single.params().sub(master.params()).norm2Number().doubleValue();
        assertThat(change / single.params().norm2Number().doubleValue()).as("step %d", step).isLessThan(1e-5);
      }
      INDArray velocitySingle = single.getUpdater().getStateViewArray();
      INDArray velocityParallel = master.getUpdater().getStateViewArray();
      assertThat(velocityParallel.norm2Number().doubleValue()).isPositive();
      assertThat(velocitySingle.sub(velocityParallel).norm2Number().doubleValue() / velocitySingle.norm2Number().doubleValue())
          .isLessThan(1e-4);
      // the learning rate reaches the replicas
      parallel.setLearningRate(0.001);
      assertThat(parallel.replicas().get(1).getLayer("fc8").conf().getLayer().getUpdaterByParam("W").getLearningRate(0, 0))
          .isEqualTo(0.001);
    }
  }
}
