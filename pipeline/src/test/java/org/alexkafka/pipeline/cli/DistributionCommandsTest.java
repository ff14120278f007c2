package org.alexkafka.pipeline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The CLI lists a command only where the distribution can run it. */
class DistributionCommandsTest {

  /** Sees everything but the trainer module, as the slim ingest/augment image has it. */
  private static ClassLoader withoutTrainer() {
    ClassLoader app = DistributionCommandsTest.class.getClassLoader();
    return new ClassLoader(app) {
      @Override
      protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        if (name.startsWith("org.alexkafka.trainer.")) {
          throw new ClassNotFoundException(name);
        }
        if (name.startsWith("org.alexkafka.pipeline.")) { // defined here, so that they look for the trainer here
          synchronized (getClassLoadingLock(name)) {
            Class<?> c = findLoadedClass(name);
            if (c == null) {
              try (var in = app.getResourceAsStream(name.replace('.', '/') + ".class")) {
                byte[] bytes = in.readAllBytes();
                c = defineClass(name, bytes, 0, bytes.length);
              } catch (IOException | NullPointerException e) {
                throw new ClassNotFoundException(name, e);
              }
            }
            return c;
          }
        }
        return super.loadClass(name, resolve);
      }
    };
  }

  @Test
  void withoutTheTrainerThereIsNoRunNorTrainButIngestAndAugmentAreThere() throws Exception {
    Class<?> cli = withoutTrainer().loadClass(AlexKafkaCli.class.getName());
    assertThat(cli).isNotSameAs(AlexKafkaCli.class);
    Map<String, CommandLine> slim = ((CommandLine) cli.getMethod("commandLine").invoke(null)).getSubcommands();
    assertThat(slim).containsKeys("topics", "ingest", "augment", "broker").doesNotContainKeys("run", "train", "evaluate");
    assertThat(AlexKafkaCli.commandLine().getSubcommands()).as("the whole distribution").containsKeys("run", "train");
  }
}
