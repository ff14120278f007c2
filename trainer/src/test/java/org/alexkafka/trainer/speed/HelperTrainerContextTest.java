package org.alexkafka.trainer.speed;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.parallelism.ParallelWrapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Two CPU workers: each replica trains with the helpers on, and the averaged model still learns. */
class HelperTrainerContextTest {

    @BeforeAll
    static void nativeBuild() {
        NativeBuildSelector.selectBeforeNd4jLoads();
    }

    @Test
    void everyWorkerReplicaGetsTheHelpers() throws Exception {
        MultiLayerNetwork net = FastPathEquivalenceTest.smallAlexNet();
        LayerHelpers.enable(net);
        INDArray x = FastPathEquivalenceTest.input();
        INDArray y = FastPathEquivalenceTest.labels();
        net.setInput(x);
        net.setLabels(y);
        net.computeGradientAndScore();
        double before = net.score();

        List<DataSet> batches = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            batches.add(new DataSet(x, y));
        }
        DataSetIterator data = new org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator<>(batches, 4);
        try (ParallelWrapper wrapper = new ParallelWrapper.Builder<>(net)
                .workers(2).prefetchBuffer(2).averagingFrequency(1)
                .trainingMode(ParallelWrapper.TrainingMode.AVERAGING)
                .build()) {
            HelperTrainerContext context = HelperTrainerContext.install(wrapper);
            for (int epoch = 0; epoch < 3; epoch++) {
                data.reset();
                wrapper.fit(data);
            }
            // 2 workers x 3 fit() calls: ParallelWrapper builds fresh worker replicas on every fit()
            assertThat(context.replicaResults()).hasSize(6)
                    .allSatisfy(r -> assertThat(r.helpers()).isEqualTo(r.candidates()).isEqualTo(10));
        }
        net.setInput(x);
        net.setLabels(y);
        net.computeGradientAndScore();
        assertThat(net.score()).isLessThan(before);
    }
}
