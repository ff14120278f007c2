package org.alexkafka.ingest.decode;

/** The published form: size x size interleaved 8-bit sRGB, plus the upright original size. */
public record PreparedImage(int size, byte[] rgb, int originalWidth, int originalHeight, String format) {}
