package org.alexkafka.augment.topology;

import org.alexkafka.augment.AugmentConfig;
import org.alexkafka.augment.AugmentMetrics;
import org.alexkafka.augment.sample.SampleFactory;
import org.alexkafka.schemas.LabelEntry;
import org.alexkafka.schemas.Stats;
import org.alexkafka.schemas.serde.RecordSerdes;
import org.alexkafka.schemas.topics.Topics;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.Stores;

/**
 * images ─▶ augment (decode, check, label, count, crop) ─┬▶ samples.train (key imageId#variant; variant v in partition hash(id)+v mod P)
 *                                                        ├▶ samples.val   (key imageId, 10 views)
 *                                                        ├▶ images.rejected
 *                                                        └▶ partial sums ─▶ (1 partition) merge ─▶ stats
 * Global tables: labels (class index), stats (the PCA for the lighting).
 */
public final class AugmentTopology {

  private AugmentTopology() {}

  public static Topology build(AugmentConfig config, AugmentMetrics metrics) {
    Topics topics = config.kafka().topics();
    SampleFactory factory = new SampleFactory(config.seed(), config.variantsPerImage(), config.cropSize(),
        config.alphaStd(), config.lightingMagnitude());
    StreamsBuilder builder = new StreamsBuilder();

    builder.globalTable(topics.labels(), Consumed.with(Serdes.String(), RecordSerdes.labelEntry()).withName("labels"),
        Materialized.<String, LabelEntry>as(Stores.inMemoryKeyValueStore(StoreNames.LABELS))
            .withKeySerde(Serdes.String()).withValueSerde(RecordSerdes.labelEntry()));
    builder.globalTable(topics.stats(), Consumed.with(Serdes.String(), Serdes.ByteArray()).withName("published-stats"),
        Materialized.<String, byte[]>as(Stores.inMemoryKeyValueStore(StoreNames.STATS))
            .withKeySerde(Serdes.String()).withValueSerde(Serdes.ByteArray()));

    builder.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(StoreNames.SEEN_TRAIN_IDS), Serdes.String(), Serdes.Long()).withCachingEnabled());
    builder.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(StoreNames.STATS_PARTIAL), Serdes.String(), Serdes.ByteArray()).withCachingEnabled());
    builder.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(StoreNames.LABEL_WAIT), Serdes.String(), Serdes.ByteArray()));
    builder.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(StoreNames.STATS_PARTIALS), Serdes.String(), Serdes.ByteArray()));

    KStream<String, Routed> out = builder
        .stream(topics.images(), Consumed.with(Serdes.String(), Serdes.ByteArray()).withName("images"))
        .process(() -> new AugmentProcessor(topics, factory, config.cropSize(), config.statsInterval(),
                config.labelWait(), metrics), Named.as("augment"),
            StoreNames.SEEN_TRAIN_IDS, StoreNames.STATS_PARTIAL, StoreNames.LABEL_WAIT);

    out.filterNot((k, v) -> v.isPartial(), Named.as("records"))
        .to((k, v, ctx) -> v.topic(), Produced.with(Serdes.String(), RoutedSerializer.serde())
            .withStreamPartitioner(new SpreadVariantsPartitioner(topics.samplesTrain())).withName("outputs"));

    out.filter((k, v) -> v.isPartial(), Named.as("partials"))
        .mapValues(v -> (Stats) v.value(), Named.as("partial-stats"))
        .repartition(Repartitioned.with(Serdes.String(), RecordSerdes.stats())
            .withName("stats-partials").withNumberOfPartitions(1))
        .process(() -> new StatsMergeProcessor(config.statsInterval()), Named.as("merge-stats"), StoreNames.STATS_PARTIALS)
        .to(topics.stats(), Produced.with(Serdes.String(), RecordSerdes.stats()).withName("stats"));

    return builder.build();
  }
}
