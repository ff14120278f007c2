package org.alexkafka.schemas.serde;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.avro.Schema;

/**
 * Earlier versions of the record schemas, kept as resources under {@code schema-history/} and
 * listed in its {@code index.txt}. Their fingerprints let a reader decode records written before a
 * schema evolved.
 */
public final class SchemaHistory {

  private static final String DIR = "/schema-history/";
  private static final List<Schema> OLDER = load();

  private SchemaHistory() {}

  public static List<Schema> olderVersionsOf(String fullName) {
    return OLDER.stream().filter(s -> s.getFullName().equals(fullName)).toList();
  }

  private static List<Schema> load() {
    try (InputStream index = SchemaHistory.class.getResourceAsStream(DIR + "index.txt")) {
      if (index == null) {
        return List.of();
      }
      List<String> files = new BufferedReader(new InputStreamReader(index, StandardCharsets.UTF_8))
          .lines().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
      return files.stream().map(SchemaHistory::parse).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Schema parse(String file) {
    try (InputStream in = SchemaHistory.class.getResourceAsStream(DIR + file)) {
      if (in == null) {
        throw new IllegalStateException("schema-history/index.txt lists a missing file: " + file);
      }
      return new Schema.Parser().parse(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
