package org.alexkafka.trainer.report;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunSettingsTest {

  private static Map<String, String> asMap(List<RunSettings.Setting> rows) {
    return rows.stream().collect(Collectors.toMap(RunSettings.Setting::name, RunSettings.Setting::value));
  }

  @Test
  void showsTheRunItsDataAndEveryOptionOfTheStartRow(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("metrics.jsonl");
    Files.writeString(file, """
        {"kind":"start","time":"2026-01-01T10:00:00Z","epoch":1,"iteration":0,"engine":"torch","device":"cuda:0","parameters":60965224,"seed":42,"git_commit":"0123abcd","train_images":9469,"java":"17.0.12","config":{"profile":"paper","classes":10,"batchSize":128,"lr":{"kind":"plateau","initial":0.01,"steps":[30,60]}}}
        {"kind":"epoch","time":"2026-01-01T10:00:01Z","epoch":1,"iteration":0,"train_offsets":75760}
        {"kind":"eval","time":"2026-01-01T10:30:00Z","epoch":1,"iteration":592,"images":500,"top1_error":0.6,"top5_error":0.2}
        {"kind":"end","time":"2026-01-01T11:02:05Z","epoch":1,"iteration":592,"reason":"PLATEAU","description":"validation error stopped improving"}
        """);

    RunSettings s = RunSettings.of(MetricsHistory.read(file), null, Instant.parse("2030-01-01T00:00:00Z"));

    Map<String, String> run = asMap(s.run());
    assertThat(run).containsEntry("status", "ended: validation error stopped improving (PLATEAU)")
        .containsEntry("started", "2026-01-01T10:00:00Z").containsEntry("ended", "2026-01-01T11:02:05Z")
        .containsEntry("duration", "1:02:05").containsEntry("engine", "torch").containsEntry("device", "cuda:0")
        .containsEntry("seed", "42").containsEntry("git commit", "0123abcd").containsEntry("parameters", "60,965,224");
    assertThat(asMap(s.data())).containsEntry("classes", "10").containsEntry("training images", "9469")
        .containsEntry("validation images", "500")
        .hasEntrySatisfying("samples.train offsets per epoch", v -> assertThat(v).startsWith("75760"));
    assertThat(s.options()).containsExactly(new RunSettings.Setting("profile", "paper"),
        new RunSettings.Setting("classes", "10"), new RunSettings.Setting("batchSize", "128"),
        new RunSettings.Setting("lr.kind", "plateau"), new RunSettings.Setting("lr.initial", "0.01"),
        new RunSettings.Setting("lr.steps", "[30, 60]"));
  }

  @Test
  void aRunningRunIsMeasuredToNowAndAnOldFileTakesTheCheckpointsConfig(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("metrics.jsonl");
    Files.writeString(file, """
        {"kind":"train","time":"2026-01-01T10:00:00Z","epoch":1,"iteration":20,"loss":2.0,"top1":0.1,"top5":0.5}
        """);
    record Config(String profile, int batchSize) {}

    RunSettings s = RunSettings.of(MetricsHistory.read(file), new ObjectMapper().valueToTree(new Config("small", 64)),
        Instant.parse("2026-01-01T10:00:07Z"));

    assertThat(asMap(s.run())).containsEntry("status", "running (no end record yet)").containsEntry("ended", "—")
        .containsEntry("duration", "0:07 so far").containsEntry("git commit", "unknown");
    assertThat(s.options()).containsExactly(new RunSettings.Setting("profile", "small"),
        new RunSettings.Setting("batchSize", "64"));
  }

  @Test
  void theCommitIsUnknownOutsideARepository(@TempDir Path dir) {
    assertThat(GitCommit.revParse(dir)).isEqualTo(GitCommit.UNKNOWN);
  }
}
