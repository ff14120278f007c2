package org.alexkafka.trainer.checkpoint;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * NumPy's .npz: a zip of .npy files, one per named array ({@code numpy.load} reads it, and so can
 * PyTorch through it). Entries are stored uncompressed: float weights barely compress.
 */
public final class Npz {

  private Npz() {
  }

  public static void write(Path file, Map<String, Npy.Array> arrays) throws IOException {
    try (OutputStream raw = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(raw)) {
      zip.setLevel(0);
      for (Map.Entry<String, Npy.Array> e : arrays.entrySet()) {
        zip.putNextEntry(new ZipEntry(e.getKey() + ".npy"));
        Npy.write(zip, e.getValue());
        zip.closeEntry();
      }
    }
  }

  /** The arrays by name, in the file's order. */
  public static Map<String, Npy.Array> read(Path file) throws IOException {
    Map<String, Npy.Array> out = new LinkedHashMap<>();
    try (InputStream raw = Files.newInputStream(file); ZipInputStream zip = new ZipInputStream(raw)) {
      for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
        String name = e.getName();
        if (!name.endsWith(".npy")) {
          throw new IOException(file + ": entry " + name + " is not an .npy array");
        }
        out.put(name.substring(0, name.length() - 4), Npy.parse(zip.readAllBytes(), file + "!" + name));
      }
    }
    return out;
  }
}
