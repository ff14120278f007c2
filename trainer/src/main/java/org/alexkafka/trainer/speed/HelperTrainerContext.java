package org.alexkafka.trainer.speed;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.parallelism.ParallelWrapper;
import org.deeplearning4j.parallelism.factory.TrainerContext;
import org.deeplearning4j.parallelism.trainer.DefaultTrainer;
import org.deeplearning4j.parallelism.trainer.Trainer;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * ParallelWrapper's default trainers, with the native layer helpers put on each worker's replica.
 * ParallelWrapper builds every replica from the configuration ({@code new MultiLayerNetwork(conf)
 * .init()} / {@code new ComputationGraph(conf).init()}), so the helpers set on the original model
 * do not carry over; {@link DefaultTrainer} calls {@code postInit()} right after building it,
 * which is where they are added. Parameter averaging (TrainingMode.AVERAGING) only: the builder
 * installs its own factory for every mode, so this one is put in after {@code build()}:
 * <pre>
 * ParallelWrapper wrapper = new ParallelWrapper.Builder&lt;&gt;(model).workers(n).averagingFrequency(1)
 *         .trainingMode(ParallelWrapper.TrainingMode.AVERAGING).build();
 * HelperTrainerContext.install(wrapper);   // before the first fit()
 * </pre>
 * (SHARED_GRADIENTS would need the same for its SymmetricTrainer; CUSTOM mode demands a gradient accumulator.)
 */
public final class HelperTrainerContext implements TrainerContext {
    private final List<LayerHelpers.Result> replicaResults = new CopyOnWriteArrayList<>();

    /** Replaces the trainer factory of a freshly built (not yet fitted) AVERAGING wrapper. */
    public static HelperTrainerContext install(ParallelWrapper wrapper) {
        HelperTrainerContext context = new HelperTrainerContext();
        wrapper.setTrainerContext(context);
        return context;
    }

    /** What {@link LayerHelpers#enable} did on each replica so far (for logs and tests). */
    public List<LayerHelpers.Result> replicaResults() {
        return List.copyOf(replicaResults);
    }

    @Override
    public void init(Model model, Object... args) {
        // nothing to prepare: replicas are built by the trainers themselves
    }

    @Override
    public Trainer create(String uuid, int threadId, Model model, int rootDevice, boolean useMDS, ParallelWrapper wrapper,
                          WorkspaceMode mode, int averagingFrequency) {
        HelperTrainer trainer = new HelperTrainer(replicaResults, uuid, threadId, model, useMDS, wrapper, mode, averagingFrequency);
        trainer.setName("ParallelWrapper trainer " + threadId);
        trainer.setDaemon(true);
        return trainer;
    }

    @Override
    public void finalizeRound(Model originalModel, Model... models) {
        // as DefaultTrainerContext: ParallelWrapper averages the parameters itself
    }

    @Override
    public void finalizeTraining(Model originalModel, Model... models) {
        finalizeRound(originalModel, models);
    }

    static final class HelperTrainer extends DefaultTrainer {
        private final List<LayerHelpers.Result> results;

        HelperTrainer(List<LayerHelpers.Result> results, String uuid, int threadId, Model model, boolean useMDS,
                      ParallelWrapper wrapper, WorkspaceMode mode, int averagingFrequency) {
            this.results = results;
            // the same fields DefaultTrainerContext sets through DefaultTrainer's builder
            this.originalModel = model;
            this.replicatedModel = model;
            this.threadId = threadId;
            this.parallelWrapper = wrapper;
            this.workspaceMode = mode;
            this.useMDS = useMDS;
            this.uuid = uuid + "_thread_" + threadId;
            this.averagingFrequency = averagingFrequency;
        }

        @Override
        protected void postInit() {
            super.postInit();
            results.add(LayerHelpers.enable(replicatedModel));
        }
    }
}
