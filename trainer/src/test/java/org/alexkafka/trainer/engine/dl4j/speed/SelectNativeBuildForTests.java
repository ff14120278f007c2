package org.alexkafka.trainer.engine.dl4j.speed;

import org.alexkafka.trainer.engine.dl4j.speed.NativeBuildSelector;
import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * Picks the ND4J native build for this CPU before any test touches ND4J, as the CLI's main() does
 * (otherwise JavaCPP may load an AVX-512 build on a CPU without it). Registered in
 * META-INF/services.
 */
public final class SelectNativeBuildForTests implements LauncherSessionListener {

  @Override
  public void launcherSessionOpened(LauncherSession session) {
    NativeBuildSelector.selectBeforeNd4jLoads();
  }
}
