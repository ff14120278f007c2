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
  void tombstonesStayNull() {
    assertThat(RecordSerdes.labelEntry().deserialize("labels", null)).isNull();
    assertThat(RecordSerdes.labelEntry().serialize("labels", null)).isNull();
  }
}
