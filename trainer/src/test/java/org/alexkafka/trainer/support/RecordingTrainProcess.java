package org.alexkafka.trainer.support;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.stream.Collectors;
import org.alexkafka.schemas.config.KafkaOptions;
import org.alexkafka.trainer.checkpoint.CheckpointStore;
import org.alexkafka.trainer.cli.TrainCommand;
import org.alexkafka.trainer.train.Trainer;
import org.alexkafka.trainer.train.TrainerConfig;
import picocli.CommandLine;

/**
 * {@code train} (the same flags) in a JVM of its own that also appends every trained batch to the
 * file {@code -Dtrained.batches=FILE}, one line per batch, flushed to disk before the next step:
 * {@code <iteration> <partition>:<offset> <partition>:<offset> ...}. What a process killed with
 * SIGKILL trained up to its death is then on disk, as far as the last batch it finished.
 */
public final class RecordingTrainProcess {

  private RecordingTrainProcess() {
  }

  public static void main(String[] args) throws IOException {
    TrainCommand command = new TrainCommand();
    CommandLine cli = new CommandLine(command);
    cli.parseArgs(args);
    KafkaOptions kafka = (KafkaOptions) cli.getCommandSpec().mixins().get("kafka").userObject();
    TrainerConfig cfg = command.config();
    // the iteration the Trainer resumes at: the newest complete checkpoint's, as it reads it
    long[] iteration = {cfg.fromBeginning() ? 0 : new CheckpointStore(Path.of(cfg.checkpointDir()), 1).latest()
        .map(p -> CheckpointStore.load(p).state().iteration()).orElse(0L)};
    Path file = Path.of(System.getProperty("trained.batches"));
    try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
         Trainer trainer = new Trainer(cfg, kafka.toConnection(), new SimpleMeterRegistry())) {
      trainer.onBatchTrained(refs -> {
        iteration[0]++;
        String line = iteration[0] + " " + refs.stream().map(r -> r.partition() + ":" + r.offset())
            .collect(Collectors.joining(" ")) + "\n";
        try {
          out.write(ByteBuffer.wrap(line.getBytes(StandardCharsets.US_ASCII)));
          out.force(false);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
      Trainer.Result r = trainer.run();
      System.out.printf("trained to epoch %d, iteration %d (%d samples), checkpoint %s%nended: %s%n", r.epoch(),
          r.iteration(), r.samplesTrained(), r.lastCheckpoint(), r.ended().description());
    }
    System.exit(0);
  }
}
