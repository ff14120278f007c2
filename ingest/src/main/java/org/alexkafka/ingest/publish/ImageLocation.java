package org.alexkafka.ingest.publish;

/** Where an image record is on the images topic. */
public record ImageLocation(int partition, long offset) {}
