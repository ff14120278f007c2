package org.alexkafka.augment.topology;

import static org.alexkafka.augment.testing.TestImages.image;
import static org.alexkafka.augment.testing.TestImages.randomPixels;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.alexkafka.augment.testing.HostileRecords;
import org.alexkafka.augment.testing.TestImages;
import org.alexkafka.schemas.Image;
import org.alexkafka.schemas.Rejection;
import org.alexkafka.schemas.Sample;
import org.alexkafka.schemas.Split;
import org.alexkafka.schemas.Stats;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every kind of hostile record on the images topic (and unusable entries of the labels topic),
 * between good images, in the topology: each becomes exactly one dead letter naming its offset,
 * and the good images give exactly their samples (K per training image, 10 per validation image).
 */
class HostileImagesTest {

  private static final int SIZE = 64;
  private static final int CROP = 56;
  private static final int K = 3;

  @TempDir
  Path stateDir;

  @Test
  void eachHostileImageIsOneDeadLetterAndTheGoodOnesGiveExactlyTheirSamples() {
    try (TopologyFixture f = new TopologyFixture(stateDir, 1, K, CROP)) {
      f.label("n1", 0);
      f.label("n2", 1);
      f.label("neg", -1);                                         // an index out of range
      f.labels.pipeInput("liar", TestImages.label("other", 7));   // an entry for another class
      Image template = image("t", "n1", Split.TRAIN, SIZE, randomPixels(SIZE, 9));
      byte[] unknownFingerprint = HostileRecords.unknownFingerprint(template);
      byte[] future = HostileRecords.fromTheFuture(template);

      f.image(image("g1", "n1", Split.TRAIN, SIZE, randomPixels(SIZE, 1)));                 // 0 good
      f.images.pipeInput("junk", HostileRecords.garbage());                                 // 1
      f.images.pipeInput("cut", HostileRecords.truncated(template));                        // 2
      f.images.pipeInput("who", unknownFingerprint);                                        // 3
      f.images.pipeInput("future", future);                                                 // 4
      f.images.pipeInput("huge", HostileRecords.claimingHugePixels(template));              // 5
      f.images.pipeInput("tomb", (byte[]) null);                                            // 6
      f.image(image("short-train", "n1", Split.TRAIN, SIZE, new byte[SIZE * SIZE * 3 - 1])); // 7
      f.image(image("long-val", "n1", Split.VAL, SIZE, new byte[SIZE * SIZE * 3 + 5]));     // 8
      Image wide = image("wide", "n1", Split.TRAIN, SIZE, new byte[SIZE * 32 * 3]);
      wide.setHeight(32);
      f.image(wide);                                                                        // 9
      f.image(image("small", "n1", Split.VAL, 32, randomPixels(32, 2)));                    // 10 below the crop
      Image giant = image("giant", "n1", Split.VAL, SIZE, new byte[0]);
      giant.setWidth(65536);
      giant.setHeight(65536); // 3*w*h overflows an int to 0 == the 0 bytes it carries
      f.image(giant);                                                                       // 11
      f.image(image("bigger", "n1", Split.TRAIN, 72, randomPixels(72, 3)));                 // 12 not the stats' size
      f.image(image("negative", "neg", Split.TRAIN, SIZE, randomPixels(SIZE, 4)));          // 13
      f.image(image("lied-to", "liar", Split.VAL, SIZE, randomPixels(SIZE, 5)));            // 14
      f.image(image("orphan", "nobody", Split.TRAIN, SIZE, randomPixels(SIZE, 6)));         // 15 waits
      f.image(image("v1", "n1", Split.VAL, SIZE, randomPixels(SIZE, 7)));                   // 16 good
      f.image(image("g2", "n2", Split.TRAIN, SIZE, randomPixels(SIZE, 8)));                 // 17 good
      f.image(image("v2", "n2", Split.VAL, SIZE, randomPixels(SIZE, 10)));                  // 18 good

      List<Rejection> rejected = f.rejected.readValuesToList();
      assertThat(rejected).extracting(Rejection::getReason).containsExactly(
          "poison-record", "poison-record", "unknown-schema", "unknown-schema", "poison-record", "poison-record",
          "wrong-pixel-length", "wrong-pixel-length", "wrong-size", "wrong-size", "wrong-pixel-length", "wrong-size",
          "invalid-label", "invalid-label");
      assertThat(rejected).extracting(Rejection::getSource)
          .containsExactly(java.util.stream.IntStream.rangeClosed(1, 14).mapToObj(o -> "t.images-0@" + o).toArray(String[]::new));
      assertThat(rejected).allMatch(r -> r.getStage().equals("augment"));
      assertThat(rejected.get(1).getDetail()).contains("not a known Image record");
      assertThat(rejected.get(2).getDetail()).contains("unknown schema")
          .contains(String.format("fingerprint %016x", HostileRecords.fingerprintOf(unknownFingerprint)));
      assertThat(rejected.get(3).getDetail()).contains(String.format("%016x", HostileRecords.fingerprintOf(future)));
      assertThat(rejected.get(3).getPayload()).as("kept, to replay once the schema is known")
          .isEqualTo(java.nio.ByteBuffer.wrap(future));
      assertThat(rejected.get(4).getDetail()).contains("2000000000 bytes claimed");
      assertThat(rejected.get(10).getImageId()).isEqualTo("giant");
      assertThat(rejected.get(10).getDetail()).contains("12884901888");
      assertThat(rejected.get(11).getDetail()).contains("training statistics are for 64x64");
      assertThat(rejected.get(12).getDetail()).contains("index -1");
      assertThat(rejected.get(13).getDetail()).contains("'other'");

      // the unknown label is given its time, then dead-lettered; nothing else comes
      f.driver.advanceWallClockTime(Duration.ofSeconds(31));
      List<Rejection> late = f.rejected.readValuesToList();
      assertThat(late).extracting(Rejection::getReason).containsExactly("unknown-label");
      assertThat(late.get(0).getSource()).isEqualTo("t.images-0@15");

      List<Sample> train = f.train.readValuesToList();
      List<Sample> val = f.val.readValuesToList();
      assertThat(train).hasSize(2 * K);
      assertThat(train.stream().collect(Collectors.groupingBy(s -> s.getImageId().toString(), Collectors.counting())))
          .isEqualTo(Map.of("g1", (long) K, "g2", (long) K));
      assertThat(val).hasSize(2 * 10);
      assertThat(val.stream().collect(Collectors.groupingBy(s -> s.getImageId().toString(), Collectors.counting())))
          .isEqualTo(Map.of("v1", 10L, "v2", 10L));
      f.driver.advanceWallClockTime(Duration.ofSeconds(5)); // the merge step publishes the partial of the 31 s tick
      List<Stats> stats = f.stats.readValuesToList();
      assertThat(stats).isNotEmpty();
      assertThat(stats.get(stats.size() - 1).getCount()).as("training images counted").isEqualTo(2);

      assertThat(f.counter("augment.samples", "topic", "t.samples.train")).isEqualTo(2 * K);
      assertThat(f.counter("augment.samples", "topic", "t.samples.val")).isEqualTo(20);
      assertThat(f.counter("augment.records.rejected", "reason", "poison-record")).isEqualTo(4);
      assertThat(f.counter("augment.records.rejected", "reason", "unknown-schema")).isEqualTo(2);
      assertThat(f.counter("augment.records.rejected", "reason", "wrong-pixel-length")).isEqualTo(3);
      assertThat(f.counter("augment.records.rejected", "reason", "wrong-size")).isEqualTo(3);
      assertThat(f.counter("augment.records.rejected", "reason", "invalid-label")).isEqualTo(2);
      assertThat(f.counter("augment.records.rejected", "reason", "unknown-label")).isEqualTo(1);
    }
  }
}
