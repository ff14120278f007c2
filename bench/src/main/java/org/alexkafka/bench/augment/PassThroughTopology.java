package org.alexkafka.bench.augment;

import org.alexkafka.schemas.topics.Topics;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;

/** The bench's peer: a Streams app that only copies the image bytes from images to samples.train. */
public final class PassThroughTopology {

  private PassThroughTopology() {}

  public static Topology build(Topics topics) {
    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(topics.images(), Consumed.with(Serdes.String(), Serdes.ByteArray()))
        .to(topics.samplesTrain(), Produced.with(Serdes.String(), Serdes.ByteArray()));
    return builder.build();
  }
}
