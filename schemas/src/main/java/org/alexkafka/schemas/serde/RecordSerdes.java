package org.alexkafka.schemas.serde;

import org.alexkafka.schemas.Image;
import org.alexkafka.schemas.ImageRef;
import org.alexkafka.schemas.LabelEntry;
import org.alexkafka.schemas.Rejection;
import org.alexkafka.schemas.Sample;
import org.alexkafka.schemas.Stats;

/** One serde per record type of the data contracts. Keys are plain UTF-8 strings. */
public final class RecordSerdes {

  private RecordSerdes() {}

  public static AvroSerde<Image> image() {
    return new AvroSerde<>(Image.getClassSchema());
  }

  public static AvroSerde<ImageRef> imageRef() {
    return new AvroSerde<>(ImageRef.getClassSchema());
  }

  public static AvroSerde<LabelEntry> labelEntry() {
    return new AvroSerde<>(LabelEntry.getClassSchema());
  }

  public static AvroSerde<Sample> sample() {
    return new AvroSerde<>(Sample.getClassSchema());
  }

  public static AvroSerde<Stats> stats() {
    return new AvroSerde<>(Stats.getClassSchema());
  }

  public static AvroSerde<Rejection> rejection() {
    return new AvroSerde<>(Rejection.getClassSchema());
  }
}
