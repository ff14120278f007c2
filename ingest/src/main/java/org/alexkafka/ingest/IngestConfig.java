package org.alexkafka.ingest;

import java.nio.file.Path;
import java.time.Duration;
import org.alexkafka.ingest.source.UploadSettings;
import org.alexkafka.schemas.Split;
import org.alexkafka.schemas.config.KafkaConnection;

/**
 * Everything the ingest service is told, in one place (built by {@code IngestCommand} or by the
 * all-in-one runner).
 *
 * @param kafka where the topics are
 * @param folder folder tree to scan (ImageNet layout), or null
 * @param watch keep watching {@code folder} for new files after the first scan
 * @param httpPort port of the upload endpoint; -1 = no endpoint, 0 = any free port
 * @param defaultSplit split of files outside a train/ or val/ folder, and of uploads without one
 * @param synsets fixed class order (LOC_synset_mapping.txt format), or null: next free index
 * @param imageSize side of the published square (256 in the paper)
 * @param maxPixels pictures whose header claims more pixels are refused before decoding
 * @param seed seed of the shuffle of each scan
 * @param threads decoding threads
 * @param maxUploadBytes largest accepted upload body
 * @param watchInterval how often watch mode looks for new files; a file is read once its size and
 *     modification time have not changed over one interval (so never half-written)
 * @param compression producer compression.type ("none" by default: raw pixels barely compress)
 * @param replicationFactor replication of the topics the service creates if missing
 * @param progress show a progress bar during folder scans
 * @param upload address, token and limits of the upload endpoint (see {@link UploadSettings})
 */
public record IngestConfig(
    KafkaConnection kafka,
    Path folder,
    boolean watch,
    int httpPort,
    Split defaultSplit,
    Path synsets,
    int imageSize,
    long maxPixels,
    long seed,
    int threads,
    long maxUploadBytes,
    Duration watchInterval,
    String compression,
    short replicationFactor,
    boolean progress,
    UploadSettings upload) {

  public static final int DEFAULT_IMAGE_SIZE = 256;
  public static final long DEFAULT_MAX_UPLOAD_BYTES = 64L * 1024 * 1024;
  public static final long DEFAULT_SEED = 42L;
  public static final long DEFAULT_WATCH_INTERVAL_MS = 1000;
  /** Decoded pixels barely compress. */
  public static final String DEFAULT_COMPRESSION = "none";

  public IngestConfig {
    if (imageSize < 1) {
      throw new IllegalArgumentException("--image-size must be positive: " + imageSize);
    }
    if (maxPixels < 1) {
      throw new IllegalArgumentException("--max-pixels must be positive: " + maxPixels);
    }
    if (threads < 1) {
      throw new IllegalArgumentException("--threads must be positive: " + threads);
    }
    if (watch && folder == null) {
      throw new IllegalArgumentException("--watch needs a folder to watch");
    }
    defaultSplit = defaultSplit == null ? Split.TRAIN : defaultSplit;
    watchInterval = watchInterval == null ? Duration.ofMillis(DEFAULT_WATCH_INTERVAL_MS) : watchInterval;
    compression = compression == null ? DEFAULT_COMPRESSION : compression;
    upload = upload == null ? UploadSettings.defaults() : upload;
  }

  /** Defaults for everything but the connection: for tests and the all-in-one runner. */
  public static IngestConfig defaults(KafkaConnection kafka) {
    return new IngestConfig(kafka, null, false, -1, Split.TRAIN, null, DEFAULT_IMAGE_SIZE,
        org.alexkafka.ingest.decode.ImageDecoder.DEFAULT_MAX_PIXELS, DEFAULT_SEED,
        Runtime.getRuntime().availableProcessors(), DEFAULT_MAX_UPLOAD_BYTES, Duration.ofMillis(DEFAULT_WATCH_INTERVAL_MS),
        DEFAULT_COMPRESSION,
        (short) 1, false, UploadSettings.defaults());
  }

  public IngestConfig withFolder(Path folder, boolean watch) {
    return new IngestConfig(kafka, folder, watch, httpPort, defaultSplit, synsets, imageSize, maxPixels, seed,
        threads, maxUploadBytes, watchInterval, compression, replicationFactor, progress, upload);
  }

  public IngestConfig withImageSize(int size) {
    return new IngestConfig(kafka, folder, watch, httpPort, defaultSplit, synsets, size, maxPixels, seed,
        threads, maxUploadBytes, watchInterval, compression, replicationFactor, progress, upload);
  }

  public IngestConfig withSynsets(Path synsets) {
    return new IngestConfig(kafka, folder, watch, httpPort, defaultSplit, synsets, imageSize, maxPixels, seed,
        threads, maxUploadBytes, watchInterval, compression, replicationFactor, progress, upload);
  }

  public IngestConfig withHttpPort(int port, long maxUploadBytes) {
    return new IngestConfig(kafka, folder, watch, port, defaultSplit, synsets, imageSize, maxPixels, seed,
        threads, maxUploadBytes, watchInterval, compression, replicationFactor, progress, upload);
  }

  public IngestConfig withWatchInterval(Duration interval) {
    return new IngestConfig(kafka, folder, watch, httpPort, defaultSplit, synsets, imageSize, maxPixels, seed,
        threads, maxUploadBytes, interval, compression, replicationFactor, progress, upload);
  }

  public IngestConfig withUpload(UploadSettings upload) {
    return new IngestConfig(kafka, folder, watch, httpPort, defaultSplit, synsets, imageSize, maxPixels, seed,
        threads, maxUploadBytes, watchInterval, compression, replicationFactor, progress, upload);
  }

  public IngestConfig withProgress(boolean progress) {
    return new IngestConfig(kafka, folder, watch, httpPort, defaultSplit, synsets, imageSize, maxPixels, seed,
        threads, maxUploadBytes, watchInterval, compression, replicationFactor, progress, upload);
  }
}
