package org.alexkafka.trainer.data;

import java.nio.ByteBuffer;
import org.alexkafka.schemas.Sample;
import org.alexkafka.schemas.serde.AvroSerde;
import org.alexkafka.schemas.serde.RecordSerdes;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * The training readers' deserializer of {@code samples.train}: the same checks and errors as
 * {@link RecordSerdes#sample()}, decoding each sample's pixels into a buffer of the pool when one
 * is free (Avro fills a record's bytes field in place when it is large enough).
 */
public final class ReusingSampleDeserializer implements Deserializer<Sample> {

  private final AvroSerde<Sample> serde = RecordSerdes.sample();
  private final PixelBuffers pool;

  public ReusingSampleDeserializer(PixelBuffers pool) {
    this.pool = pool;
  }

  @Override
  public Sample deserialize(String topic, byte[] data) {
    return serde.deserialize(topic, data);
  }

  @Override
  public Sample deserialize(String topic, Headers headers, ByteBuffer data) {
    ByteBuffer pixels = pool.take();
    if (pixels == null) {
      return serde.deserialize(topic, headers, data);
    }
    Sample reuse = new Sample();
    reuse.setPixels(pixels);
    return serde.deserialize(topic, data, reuse);
  }
}
