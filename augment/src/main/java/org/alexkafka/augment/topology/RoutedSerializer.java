package org.alexkafka.augment.topology;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.alexkafka.schemas.Rejection;
import org.alexkafka.schemas.Sample;
import org.alexkafka.schemas.Stats;
import org.alexkafka.schemas.serde.AvroSerde;
import org.alexkafka.schemas.serde.RecordSerdes;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/** Serialises a {@link Routed} value with the serde of its record type (one sink, several topics). */
public final class RoutedSerializer implements Serializer<Routed> {

  private final AvroSerde<Rejection> rejections = RecordSerdes.rejection();
  private final AvroSerde<Stats> stats = RecordSerdes.stats();

  private final BinaryMessageEncoder<Sample> sampleEncoder =
      new BinaryMessageEncoder<>(SpecificData.getForSchema(Sample.getClassSchema()), Sample.getClassSchema());

  /**
   * The same bytes as the shared Sample serde, written into a buffer sized for the pixels up
   * front (the generic serde grows its buffer from 4 KB, copying a 150 KB crop several times).
   */
  private byte[] serializeSample(Sample s) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream(s.getPixels().remaining() + 512);
      sampleEncoder.encode(s, out);
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A serde for the sink; outputs are never read back as {@link Routed}. */
  public static Serde<Routed> serde() {
    return Serdes.serdeFrom(new RoutedSerializer(), (topic, bytes) -> {
      throw new UnsupportedOperationException("Routed values are written, never read");
    });
  }

  @Override
  public byte[] serialize(String topic, Routed routed) {
    if (routed == null) {
      return null;
    }
    if (routed.value() instanceof Sample s) {
      return serializeSample(s);
    }
    if (routed.value() instanceof Rejection r) {
      return rejections.serialize(topic, r);
    }
    if (routed.value() instanceof Stats s) {
      return stats.serialize(topic, s);
    }
    throw new IllegalArgumentException("no serde for " + routed.value().getClass().getName());
  }
}
