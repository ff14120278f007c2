package org.alexkafka.bench.decode;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.alexkafka.ingest.decode.DecodeException;
import org.alexkafka.ingest.decode.ImageDecoder;
import org.alexkafka.ingest.decode.ImagePreparer;
import org.alexkafka.ingest.decode.PreparedImage;
import org.alexkafka.ingest.resize.ResampleFilter;
import org.alexkafka.schemas.Image;
import org.alexkafka.schemas.Split;
import org.alexkafka.schemas.serde.RecordSerdes;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.utils.ByteBufferOutputStream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench-decode}: decode + resize + centre crop of real photos, Java against Pillow (and
 * OpenCV when installed) on the same files in the same run, alternating rounds. Prints images/s on
 * one core and on all cores, the ratios, and lz4 against no compression on the published records.
 * The last line is the key=value summary.
 */
@Command(name = "bench-decode", mixinStandardHelpOptions = true,
    description = "Decode+resize+crop throughput of the ingest pipeline against Pillow (and OpenCV) on the same photos.")
public final class DecodeBench implements Callable<Integer> {

  @Option(names = "--data", defaultValue = "${env:BENCH_DATA:-}",
      description = "Folder of photos (default: testdata/imagenet-val-100 beside the repository).")
  String data;

  @Option(names = "--size", defaultValue = "256", description = "Output side (default ${DEFAULT-VALUE}).")
  int size;

  @Option(names = "--seconds", defaultValue = "4", description = "Seconds per measurement (default ${DEFAULT-VALUE}).")
  double seconds;

  @Option(names = "--rounds", defaultValue = "2", description = "Alternating rounds (default ${DEFAULT-VALUE}).")
  int rounds;

  @Option(names = "--python", defaultValue = "${env:BENCH_PYTHON:-/usr/bin/python3}",
      description = "Python with Pillow (Debian python3-pil) and optionally OpenCV (python3-opencv).")
  String python;

  @Option(names = "--script", defaultValue = "${env:BENCH_PILLOW_SCRIPT:-}",
      description = "Path of bench/pillow_decode.py (default: found above the working directory).")
  String script;

  @Option(names = "--side-by-side", defaultValue = "${env:BENCH_SIDE_BY_SIDE:-target/java-vs-pillow.png}",
      description = "Where to write the first photo's crop, Java left, Pillow right (default ${DEFAULT-VALUE}).")
  String sideBySide;

  @Option(names = "--threads", defaultValue = "0", description = "Threads/processes for the all-cores figures; 0 = all cores.")
  int threads;

  public static void main(String[] args) {
    System.exit(new CommandLine(new DecodeBench()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Path dir = data == null || data.isBlank() ? findUp("testdata/imagenet-val-100") : Path.of(data);
    Path peerScript = script == null || script.isBlank() ? findUp("bench/pillow_decode.py") : Path.of(script);
    int cores = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    List<Path> files;
    try (Stream<Path> s = Files.walk(dir)) {
      files = s.filter(Files::isRegularFile).sorted().toList();
    }
    List<byte[]> blobs = new ArrayList<>();
    for (Path f : files) {
      blobs.add(Files.readAllBytes(f));
    }
    ImagePreparer preparer = new ImagePreparer(new ImageDecoder(), size, ResampleFilter.TRIANGLE);
    String versions = runPython(peerScript, List.of("--version")).strip();
    boolean pillow = versions.contains("pillow=") && !versions.contains("pillow=missing");
    boolean opencv = versions.contains("opencv=") && !versions.contains("opencv=missing");
    System.out.printf(Locale.ROOT, "bench-decode: %d photos from %s, output %dx%d, %d cores, %.0f s per measurement, %d rounds%n",
        files.size(), dir, size, size, cores, seconds, rounds);
    System.out.printf("java %s (%s), peer %s%n", System.getProperty("java.version"), System.getProperty("java.vm.name"), versions);

    long t = System.nanoTime();
    while (System.nanoTime() - t < Math.max(6e9, seconds * 1e9)) { // JIT warm-up
      runOnce(preparer, blobs);
    }
    javaRate(preparer, blobs, cores); // the multi-threaded path warmed up too
    double[] nan = {Double.NaN, Double.NaN};
    double java1 = 0;
    double java1Cpu = 0;
    double javaN = 0;
    double pil1 = 0;
    double pil1Cpu = 0;
    double pilN = 0;
    double cvN = 0;
    for (int r = 1; r <= rounds; r++) {
      double[] j1 = javaRate(preparer, blobs, 1);
      double[] p1 = pillow ? pythonRate(peerScript, "pillow", 1, files) : nan;
      double[] jn = javaRate(preparer, blobs, cores);
      double[] pn = pillow ? pythonRate(peerScript, "pillow", cores, files) : nan;
      double[] cn = opencv ? pythonRate(peerScript, "opencv", cores, files) : nan;
      System.out.printf(Locale.ROOT, "round %d: 1 core: java %.1f img/s (%.1f per CPU-s), pillow %.1f img/s (%.1f per CPU-s) | "
              + "%d cores: java %.1f img/s, pillow %.1f, opencv %.1f%n",
          r, j1[0], j1[1], p1[0], p1[1], cores, jn[0], pn[0], cn[0]);
      java1 = Math.max(java1, j1[0]);
      java1Cpu = Math.max(java1Cpu, j1[1]);
      javaN = Math.max(javaN, jn[0]);
      pil1 = Math.max(pil1, p1[0]);
      pil1Cpu = Math.max(pil1Cpu, p1[1]);
      pilN = Math.max(pilN, pn[0]);
      cvN = Math.max(cvN, cn[0]);
    }
    if (pillow) {
      compareWithPillow(preparer, peerScript, files, blobs);
    }
    colourBreakdown(blobs);
    compression(preparer, blobs);
    // Per core is measured in images per CPU-second of the one working thread/process: on a shared
    // machine other processes steal wall-clock time from either side at random, CPU time much less.
    System.out.printf(Locale.ROOT, "best per core: java %.1f img per CPU-s vs pillow %.1f (%.2fx); wall-clock %.1f vs %.1f img/s (%.2fx)%n",
        java1Cpu, pil1Cpu, java1Cpu / pil1Cpu, java1, pil1, java1 / pil1);
    System.out.printf(Locale.ROOT, "best all %d cores (wall-clock): java %.1f img/s, pillow %.1f (%.2fx), opencv %.1f (%.2fx)%n",
        cores, javaN, pilN, javaN / pilN, cvN, javaN / cvN);
    System.out.printf(Locale.ROOT,
        "what=decode-resize-crop-%d value=%.1f unit=images/cpu-s peer=pillow-%s-bilinear peer_value=%.1f ratio=%.2f "
            + "wall_ratio=%.2f all_cores=%d java_all=%.1f pillow_all=%.1f opencv_all=%.1f ratio_all_vs_opencv=%.2f%n",
        size, java1Cpu, versionOf(versions, "pillow"), pil1Cpu, java1Cpu / pil1Cpu, java1 / pil1, cores, javaN, pilN, cvN, javaN / cvN);
    return 0;
  }

  private static void runOnce(ImagePreparer preparer, List<byte[]> blobs) {
    for (byte[] b : blobs) {
      try {
        preparer.prepare(b);
      } catch (DecodeException e) {
        throw new IllegalStateException("bench photo rejected: " + e.getMessage(), e);
      }
    }
  }

  /**
   * {wall-clock images/s over all threads, images per CPU-second}. CPU time is the whole JVM's
   * (garbage collector and JIT threads included, as Python's process_time includes everything),
   * divided by the number of worker threads.
   */
  private double[] javaRate(ImagePreparer preparer, List<byte[]> blobs, int threads) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    try {
      List<Future<Long>> counts = new ArrayList<>();
      long start = System.nanoTime();
      long cpu0 = os.getProcessCpuTime();
      long end = start + (long) (seconds * 1e9);
      for (int i = 0; i < threads; i++) {
        counts.add(pool.submit(() -> {
          long n = 0;
          while (System.nanoTime() < end) {
            runOnce(preparer, blobs);
            n += blobs.size();
          }
          return n;
        }));
      }
      long n = 0;
      for (Future<Long> c : counts) {
        n += c.get();
      }
      double cpuSeconds = (os.getProcessCpuTime() - cpu0) / 1e9;
      return new double[] {n / ((System.nanoTime() - start) / 1e9), n / cpuSeconds * threads};
    } finally {
      pool.shutdown();
      pool.awaitTermination(1, TimeUnit.MINUTES);
    }
  }

  /**
   * Same photos, same size: how far our crops are from Pillow's, per photo, split by whether the
   * photo carries a colour profile (we apply it, Pillow ignores it); and one pair as a picture.
   */
  private void compareWithPillow(ImagePreparer preparer, Path peerScript, List<Path> files, List<byte[]> blobs) throws Exception {
    Path dump = Files.createTempDirectory("bench-decode-pillow");
    try {
      List<String> args = new ArrayList<>(List.of("--dump", dump.toString(), "--size", String.valueOf(size)));
      files.forEach(f -> args.add(f.toString()));
      runPython(peerScript, args);
      double[] sum = new double[2];
      int[] count = new int[2];
      int[] max = new int[2];
      for (int i = 0; i < blobs.size(); i++) {
        byte[] ours = preparer.prepare(blobs.get(i)).rgb();
        byte[] theirs = Files.readAllBytes(dump.resolve(i + ".rgb"));
        int group = new String(blobs.get(i), 0, Math.min(blobs.get(i).length, 1 << 16), StandardCharsets.ISO_8859_1)
            .contains("ICC_PROFILE") ? 1 : 0;
        long total = 0;
        for (int j = 0; j < ours.length; j++) {
          int d = Math.abs((ours[j] & 0xFF) - (theirs[j] & 0xFF));
          total += d;
          max[group] = Math.max(max[group], d);
        }
        sum[group] += (double) total / ours.length;
        count[group]++;
        if (i == 0 && sideBySide != null && !sideBySide.isBlank()) {
          writeSideBySide(ours, theirs, Path.of(sideBySide));
        }
      }
      System.out.printf(Locale.ROOT, "vs pillow, same photos: %d without a colour profile: mean |java - pillow| %.2f levels, max %d; "
              + "%d with one (we apply it, Pillow ignores it): mean %.2f, max %d%n",
          count[0], sum[0] / Math.max(1, count[0]), max[0], count[1], sum[1] / Math.max(1, count[1]), max[1]);
      if (sideBySide != null && !sideBySide.isBlank()) {
        System.out.println("side by side (java left, pillow right): " + Path.of(sideBySide).toAbsolutePath() + " (" + files.get(0) + ")");
      }
    } finally {
      try (Stream<Path> s = Files.list(dump)) {
        for (Path p : s.toList()) {
          Files.delete(p);
        }
      }
      Files.delete(dump);
    }
  }

  private void writeSideBySide(byte[] left, byte[] right, Path out) throws IOException {
    BufferedImage pair = new BufferedImage(2 * size + 8, size, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < 2 * size + 8; x++) {
        int rgb = 0xFFFFFF;
        byte[] src = x < size ? left : x >= size + 8 ? right : null;
        if (src != null) {
          int i = (y * size + (x < size ? x : x - size - 8)) * 3;
          rgb = (src[i] & 0xFF) << 16 | (src[i + 1] & 0xFF) << 8 | (src[i + 2] & 0xFF);
        }
        pair.setRGB(x, y, rgb);
      }
    }
    if (out.getParent() != null) {
      Files.createDirectories(out.getParent());
    }
    ImageIO.write(pair, "png", out.toFile());
  }

  /** Where the time goes: plain ImageIO decode (the reader converts profiles) against ours. */
  private void colourBreakdown(List<byte[]> blobs) throws Exception {
    ImageDecoder decoder = new ImageDecoder();
    double plain = rate(() -> {
      for (byte[] b : blobs) {
        try (ImageInputStream in = ImageIO.createImageInputStream(new java.io.ByteArrayInputStream(b))) {
          ImageReader reader = ImageIO.getImageReaders(in).next();
          reader.setInput(in);
          BufferedImage unused = reader.read(0);
          reader.dispose();
        }
      }
    }, blobs.size());
    double ours = rate(() -> {
      for (byte[] b : blobs) {
        decoder.decode(b);
      }
    }, blobs.size());
    System.out.printf(Locale.ROOT, "decode only, 1 thread: ImageIO default (profiles converted at full size) %.1f img/s, "
        + "ingest decoder (sRGB profiles skipped, others deferred past the resize) %.1f img/s%n", plain, ours);
  }

  private interface Work {
    void run() throws Exception;
  }

  private double rate(Work pass, int perPass) throws Exception {
    long n = 0;
    long start = System.nanoTime();
    while (System.nanoTime() - start < seconds * 1e9) {
      pass.run();
      n += perPass;
    }
    return n / ((System.nanoTime() - start) / 1e9);
  }

  /** lz4 against none on the records the service publishes (256x256x3 decoded pixels). */
  private void compression(ImagePreparer preparer, List<byte[]> blobs) throws Exception {
    List<byte[]> records = new ArrayList<>();
    for (byte[] b : blobs) {
      PreparedImage p = preparer.prepare(b);
      Image image = Image.newBuilder().setId("x".repeat(64)).setLabel("n00000000").setSplit(Split.TRAIN).setSource("bench")
          .setOriginalWidth(p.originalWidth()).setOriginalHeight(p.originalHeight()).setWidth(size).setHeight(size)
          .setPixels(ByteBuffer.wrap(p.rgb())).setIngestedAt(Instant.now()).build();
      records.add(RecordSerdes.image().serialize("images", image));
    }
    long raw = records.stream().mapToLong(r -> r.length).sum();
    long[] compressed = {0};
    double rate = rate(() -> {
      compressed[0] = 0;
      for (byte[] r : records) {
        ByteBufferOutputStream buffer = new ByteBufferOutputStream(r.length + 1024);
        try (OutputStream out = Compression.lz4().build().wrapForOutput(buffer, RecordBatch.CURRENT_MAGIC_VALUE)) {
          out.write(r);
        }
        compressed[0] += buffer.position();
      }
    }, records.size());
    System.out.printf(Locale.ROOT, "records: %d x %.0f KB; lz4 keeps %.1f%% of the bytes at %.0f MB/s on one core "
            + "(none: 100%%, no CPU)%n",
        records.size(), raw / (double) records.size() / 1024, 100.0 * compressed[0] / raw, rate * raw / records.size() / 1e6);
  }

  /** {wall-clock images/s over all processes, images per CPU-second of one process}. */
  private double[] pythonRate(Path peerScript, String mode, int procs, List<Path> files) throws IOException, InterruptedException {
    List<String> args = new ArrayList<>(List.of("--mode", mode, "--procs", String.valueOf(procs),
        "--seconds", String.valueOf(seconds), "--size", String.valueOf(size)));
    files.forEach(f -> args.add(f.toString()));
    String out = runPython(peerScript, args);
    for (String line : out.split("\n")) {
      if (line.startsWith("images_per_s=")) {
        String[] kv = line.strip().split(" ");
        return new double[] {Double.parseDouble(kv[0].split("=")[1]), Double.parseDouble(kv[1].split("=")[1])};
      }
    }
    throw new IllegalStateException("no images_per_s line from the peer: " + out);
  }

  private String runPython(Path peerScript, List<String> args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(python, peerScript.toString()));
    cmd.addAll(args);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    p.getInputStream().transferTo(out);
    int rc = p.waitFor();
    String text = out.toString(StandardCharsets.UTF_8);
    if (rc != 0) {
      throw new IllegalStateException(String.join(" ", cmd.subList(0, 2)) + " failed (" + rc + "): " + text);
    }
    return text;
  }

  private static String versionOf(String versions, String key) {
    for (String part : versions.split(" ")) {
      if (part.startsWith(key + "=")) {
        return part.substring(key.length() + 1);
      }
    }
    return "?";
  }

  private static Path findUp(String relative) {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.exists(p.resolve(relative))) {
        return p.resolve(relative);
      }
      Path sibling = p.resolve("main").resolve(relative);
      if (Files.exists(sibling)) {
        return sibling;
      }
    }
    throw new IllegalStateException("cannot find " + relative + " above " + Path.of("").toAbsolutePath() + ": pass it explicitly");
  }
}
