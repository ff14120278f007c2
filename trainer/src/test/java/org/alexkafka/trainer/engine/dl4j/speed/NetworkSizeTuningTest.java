package org.alexkafka.trainer.engine.dl4j.speed;

import org.alexkafka.trainer.model.AlexNetSpec;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

import static org.assertj.core.api.Assertions.assertThat;

/** Which networks get the small-network settings, and that BLAS goes to one thread and back. */
class NetworkSizeTuningTest {

    @AfterEach
    void backToLarge() {
        NetworkSizeTuning.reset();
    }

    @Test
    void theSmallProfileIsSmallAndThePaperNetIsNot() {
        assertThat(NetworkSizeTuning.isSmall(330_000)).isTrue();   // AlexNetSpec.small(10, 64)
        assertThat(NetworkSizeTuning.isSmall(62_400_000)).isFalse(); // AlexNetSpec.paper()
        assertThat(NetworkSizeTuning.isSmall(NetworkSizeTuning.SMALL_NETWORK_PARAMETERS)).isFalse();
        assertThat(AlexNetSpec.small(10, 64).fc()).as("the small profile's fc width, for the count above").isEqualTo(256);
    }

    @Test
    void enablingHelpersOnASmallNetworkUsesOneBlasThreadAndALargeOneRestoresTheDefault() {
        NetworkSizeTuning.reset(); // other tests in this JVM may have enabled small networks
        int defaultThreads = Nd4j.factory().blas().getMaxThreads();
        MultiLayerNetwork net = FastPathEquivalenceTest.smallAlexNet();
        LayerHelpers.enable(net);
        String skip = System.getenv("ND4J_SKIP_BLAS_THREADS");
        if (skip == null || skip.isEmpty()) {
            assertThat(Nd4j.factory().blas().getMaxThreads()).isEqualTo(1);
            assertThat(NetworkSizeTuning.apply(62_400_000L)).contains("BLAS threads " + defaultThreads);
            assertThat(Nd4j.factory().blas().getMaxThreads()).isEqualTo(defaultThreads);
        }
        assertThat(NetworkSizeTuning.apply(net)).startsWith("small network");
    }
}
