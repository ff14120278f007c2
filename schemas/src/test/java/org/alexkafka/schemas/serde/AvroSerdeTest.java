package org.alexkafka.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import org.alexkafka.schemas.Image;
import org.alexkafka.schemas.ImageRef;
import org.alexkafka.schemas.LabelEntry;
import org.alexkafka.schemas.Rejection;
import org.alexkafka.schemas.Sample;
import org.alexkafka.schemas.Split;
import org.alexkafka.schemas.Stats;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class AvroSerdeTest {

  private static final Instant NOW = Instant.ofEpochMilli(1_700_000_000_000L);

  static byte[] randomBytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  static Image image() {
    return Image.newBuilder().setId("ab12").setLabel("n01440764").setSplit(Split.TRAIN)
        .setSource("train/n01440764/x.JPEG").setOriginalWidth(500).setOriginalHeight(375)
        .setWidth(256).setHeight(256).setPixels(ByteBuffer.wrap(randomBytes(256 * 256 * 3, 1)))
        .setIngestedAt(NOW).build();
  }

  private static <T extends SpecificRecord> T roundTrip(AvroSerde<T> serde, T record) {
    return serde.deserialize("t", serde.serialize("t", record));
  }

  @Test
  void everyRecordTypeRoundTrips() {
    Image image = image();
    assertThat(roundTrip(RecordSerdes.image(), image)).isEqualTo(image);
    ImageRef ref = new ImageRef("abc", 3, 12345678901L);
    assertThat(roundTrip(RecordSerdes.imageRef(), ref)).isEqualTo(ref);

    LabelEntry label = new LabelEntry("n01440764", 0, "tench, Tinca tinca");
    assertThat(roundTrip(RecordSerdes.labelEntry(), label)).isEqualTo(label);

    Sample sample = Sample.newBuilder().setImageId("ab12").setClassIndex(3).setLabel("n01440764")
        .setImageSize(256).setCropSize(224).setCropX(32).setCropY(0).setMirrored(true)
        .setLighting(List.of(1.5f, -2.25f, 0.125f)).setVariant(7).setViews(1)
        .setPixels(ByteBuffer.wrap(randomBytes(224 * 224 * 3, 2))).build();
    assertThat(roundTrip(RecordSerdes.sample(), sample)).isEqualTo(sample);

    Stats stats = Stats.newBuilder().setCount(2).setWidth(2).setHeight(1)
        .setPixelSums(List.of(1L, 2L, 3L, 4L, 5L, Long.MAX_VALUE)).setChannelSums(List.of(1L, 2L, 3L))
        .setChannelProducts(List.of(1L, 2L, 3L, 4L, 5L, 6L)).setEigenvalues(List.of(3.0, 2.0, 1.0))
        .setEigenvectors(List.of(1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)).setUpdatedAt(NOW).build();
    assertThat(roundTrip(RecordSerdes.stats(), stats)).isEqualTo(stats);

    Rejection rejection = Rejection.newBuilder().setStage("ingest").setSource("hard/empty.jpg")
        .setReason("empty").setDetail("file has 0 bytes").setImageId(null)
        .setPayload(ByteBuffer.wrap(new byte[] {1, 2})).setRejectedAt(NOW).build();
    assertThat(roundTrip(RecordSerdes.rejection(), rejection)).isEqualTo(rejection);
  }

  @Test
  void aRecordWrittenWithThePreviousImageSchemaIsReadByTheCurrentOne() throws Exception {
    Schema v1;
    try (InputStream in = getClass().getResourceAsStream("/schema-history/Image.v1.avsc")) {
      v1 = new Schema.Parser().parse(in);
    }
    assertThat(v1.getField("width")).isNull();
    GenericRecord old = new GenericData.Record(v1);
    old.put("id", "old1");
    old.put("label", "n01440764");
    old.put("split", new GenericData.EnumSymbol(v1.getField("split").schema(), "VAL"));
    old.put("source", "v1-producer");
    old.put("originalWidth", 640);
    old.put("originalHeight", 480);
    old.put("pixels", ByteBuffer.wrap(randomBytes(256 * 256 * 3, 3)));
    old.put("ingestedAt", NOW.toEpochMilli());
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    new BinaryMessageEncoder<GenericRecord>(GenericData.get(), v1).encode(old, bytes);

    Image read = RecordSerdes.image().deserialize("images", bytes.toByteArray());

    assertThat(read.getId()).isEqualTo("old1");
    assertThat(read.getSplit()).isEqualTo(Split.VAL);
    assertThat(read.getOriginalWidth()).isEqualTo(640);
    assertThat(read.getWidth()).as("new field takes its default").isEqualTo(256);
    assertThat(read.getHeight()).isEqualTo(256);
    assertThat(read.getPixels()).isEqualTo(ByteBuffer.wrap(randomBytes(256 * 256 * 3, 3)));
  }

  @Test
  void garbageBytesGiveAClearErrorNamingTheTopic() {
    byte[] garbage = "this is not avro".getBytes();
    assertThatThrownBy(() -> RecordSerdes.image().deserialize("images", garbage))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("Topic 'images'")
        .hasMessageContaining("not a known Image record");
  }

  @Test
  void aRecordOfAnotherTypeIsNotMistakenForThisOne() {
    byte[] label = RecordSerdes.labelEntry().serialize("labels", new LabelEntry("n1", 1, "x"));
    assertThatThrownBy(() -> RecordSerdes.image().deserialize("labels", label))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("Topic 'labels'");
  }

  @Test
  void truncatedRecordsEmptyBytesAndAMissingMarkerGiveClearErrors() {
    byte[] whole = RecordSerdes.image().serialize("images", image());
    for (int cut : new int[] {whole.length - 1, whole.length / 2, 40, 11}) {
      byte[] truncated = java.util.Arrays.copyOf(whole, cut);
      assertThatThrownBy(() -> RecordSerdes.image().deserialize("images", truncated))
          .as("cut at %d", cut)
          .isInstanceOf(SerializationException.class)
          .isNotInstanceOf(UnknownSchemaException.class)
          .hasMessageContaining("Topic 'images'")
          .hasMessageContaining("not a known Image record");
    }
    assertThatThrownBy(() -> RecordSerdes.image().deserialize("images", java.util.Arrays.copyOf(whole, 6)))
        .isInstanceOf(SerializationException.class).hasMessageContaining("truncated");
    assertThatThrownBy(() -> RecordSerdes.image().deserialize("images", new byte[0]))
        .isInstanceOf(SerializationException.class).hasMessageContaining("0 bytes");
    byte[] noMarker = whole.clone();
    noMarker[0] = 0x12;
    assertThatThrownBy(() -> RecordSerdes.image().deserialize("images", noMarker))
        .isInstanceOf(SerializationException.class).hasMessageContaining("no C3 01 marker");
  }

  @Test
  void aRecordWithAnUnknownFingerprintNamesIt() {
    byte[] bytes = RecordSerdes.image().serialize("images", image());
    bytes[2] ^= 0x5A; // the fingerprint's low byte
    long fingerprint = java.nio.ByteBuffer.wrap(bytes, 2, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
    assertThatThrownBy(() -> RecordSerdes.image().deserialize("images", bytes))
        .isInstanceOfSatisfying(UnknownSchemaException.class, e -> {
          assertThat(e.fingerprint()).isEqualTo(fingerprint);
          assertThat(e.getMessage()).contains("Topic 'images'").contains("unknown schema")
              .contains("fingerprint " + String.format("%016x", fingerprint)).contains("not a known Image record");
        });
  }

  /** A few dozen bytes that claim a 2 GB pixel field: a clear error, not an allocation of 2 GB. */
  @Test
  void aRecordClaimingAHugeFieldIsRejectedBeforeAnythingIsAllocated() {
    Image tiny = Image.newBuilder(image()).setId("a").setLabel("b").setSource("s").setPixels(ByteBuffer.wrap(new byte[3])).build();
    byte[] whole = RecordSerdes.image().serialize("images", tiny);
    int at = 10 + 2 + 2 + 1 + 2 + 2 + 2 + 2 + 2; // header, id, label, split, source, four ints (2 bytes each here)
    assertThat(whole[at]).as("zig-zag length 3 of the pixels").isEqualTo((byte) 6);
    ByteArrayOutputStream hostile = new ByteArrayOutputStream();
    hostile.write(whole, 0, at);
    long zigzag = (2_000_000_000L) << 1;
    while ((zigzag & ~0x7FL) != 0) {
      hostile.write((int) ((zigzag & 0x7F) | 0x80));
      zigzag >>>= 7;
    }
    hostile.write((int) zigzag);
    assertThatThrownBy(() -> RecordSerdes.image().deserialize("images", hostile.toByteArray()))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("Image.pixels: 2000000000 bytes claimed");
    Stats stats = Stats.newBuilder().setCount(1).setWidth(1).setHeight(1).setPixelSums(List.of(1L, 2L, 3L))
        .setChannelSums(List.of(1L, 2L, 3L)).setChannelProducts(List.of(1L, 2L, 3L, 4L, 5L, 6L)).setUpdatedAt(NOW).build();
    byte[] statsBytes = RecordSerdes.stats().serialize("stats", stats);
    statsBytes[10 + 1 + 1 + 1] = 0x7E; // pixelSums' block count 3 (zig-zag 6) becomes 63
    assertThatThrownBy(() -> RecordSerdes.stats().deserialize("stats", statsBytes))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("Stats.pixelSums");
  }

  /**
   * A newer writer that added a field (with a default: a compatible change) writes a fingerprint
   * this reader has never seen; without the writer's schema its bytes cannot be resolved, so it is
   * an unknown schema, never a crash and never a misread record.
   */
  @Test
  void aRecordFromANewerCompatibleSchemaIsAnUnknownSchema() {
    Schema future = futureImageSchema();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      new BinaryMessageEncoder<GenericRecord>(GenericData.get(), future).encode(futureImage(future), out);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    assertThatThrownBy(() -> RecordSerdes.image().deserialize("images", out.toByteArray()))
        .isInstanceOfSatisfying(UnknownSchemaException.class, e -> assertThat(e.getMessage())
            .contains(e.fingerprintHex())
            .contains(String.format("%016x", org.apache.avro.SchemaNormalization.parsingFingerprint64(future))));
  }

  /** The current Image schema with one more field, as a later version might add it. */
  static Schema futureImageSchema() {
    String json = Image.getClassSchema().toString().replace("{\"name\":\"pixels\"",
        "{\"name\":\"exposure\",\"type\":\"float\",\"default\":0.0},{\"name\":\"pixels\"");
    return new Schema.Parser().parse(json);
  }

  static GenericRecord futureImage(Schema future) {
    Image image = image();
    GenericRecord r = new GenericData.Record(future);
    for (Schema.Field f : Image.getClassSchema().getFields()) {
      r.put(f.name(), image.get(f.name()));
    }
    r.put("split", new GenericData.EnumSymbol(future.getField("split").schema(), "TRAIN"));
    r.put("ingestedAt", NOW.toEpochMilli());
    r.put("exposure", 1.5f);
    return r;
  }

  /**
   * The consumer hands values over as views of the fetched batch: read in place, and checked within
   * the view's bounds, not the backing array's (which holds the next records too).
   */
  @Test
  void aValueInsideAFetchedBatchIsReadWithinItsOwnBounds() {
    AvroSerde<Image> serde = RecordSerdes.image();
    byte[] record = serde.serialize("images", image());
    byte[] batch = new byte[7 + record.length + 100];
    System.arraycopy(record, 0, batch, 7, record.length);
    System.arraycopy(record, 0, batch, 7 + record.length, 100); // the next record's start
    ByteBuffer view = ByteBuffer.wrap(batch, 7, record.length).slice();
    assertThat(serde.deserialize("images", null, view)).isEqualTo(image());
    assertThat(view.position()).as("the view is left as it was").isZero();

    ByteBuffer direct = ByteBuffer.allocateDirect(record.length).put(record).flip();
    assertThat(serde.deserialize("images", null, direct)).isEqualTo(image());

    // the whole record lies in the array, but the value is only its first half
    ByteBuffer cut = ByteBuffer.wrap(batch, 7, record.length / 2).slice();
    assertThatThrownBy(() -> serde.deserialize("images", null, cut))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining(record.length / 2 + " bytes are not a known Image record")
        .hasMessageContaining("truncated or corrupt");
    ByteBuffer header = ByteBuffer.wrap(batch, 7, 6).slice();
    assertThatThrownBy(() -> serde.deserialize("images", null, header)).hasMessageContaining("truncated: the header alone");
    ByteBuffer garbage = ByteBuffer.wrap(batch, 0, 5).slice();
    assertThatThrownBy(() -> serde.deserialize("images", null, garbage)).hasMessageContaining("no C3 01 marker: they start 00 00 00 00");
    assertThat(serde.deserialize("images", null, (ByteBuffer) null)).isNull();
  }

  @Test
  void tombstonesStayNull() {
    assertThat(RecordSerdes.labelEntry().deserialize("labels", null)).isNull();
    assertThat(RecordSerdes.labelEntry().serialize("labels", null)).isNull();
  }
}
