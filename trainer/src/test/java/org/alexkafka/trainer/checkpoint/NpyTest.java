package org.alexkafka.trainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {

  @TempDir
  Path tmp;

  @Test
  void writesWhatItReadsForEachElementType() throws Exception {
    byte[] bytes = {0, 1, (byte) 200, (byte) 255, 7, 8};
    Npy.write(tmp.resolve("b.npy"), Npy.ofBytes(bytes, 2, 3));
    Npy.write(tmp.resolve("i.npy"), Npy.ofInts(new int[] {1, -2, Integer.MAX_VALUE}, 3));
    Npy.write(tmp.resolve("f.npy"), Npy.ofFloats(new float[] {0.5f, -1e-7f, 255f, Float.MIN_VALUE}, 2, 1, 2));

    Npy.Array b = Npy.read(tmp.resolve("b.npy"));
    assertThat(b.descr()).isEqualTo(Npy.UINT8);
    assertThat(b.shape()).containsExactly(2, 3);
    assertThat(b.data()).containsExactly(bytes);
    Npy.Array i = Npy.read(tmp.resolve("i.npy"));
    assertThat(i.shape()).containsExactly(3);
    assertThat(i.ints()).containsExactly(1, -2, Integer.MAX_VALUE);
    Npy.Array f = Npy.read(tmp.resolve("f.npy"));
    assertThat(f.shape()).containsExactly(2, 1, 2);
    assertThat(f.floats()).containsExactly(0.5f, -1e-7f, 255f, Float.MIN_VALUE);
  }

  @Test
  void theHeaderIsNumpysVersionOneAlignedTo64Bytes() throws Exception {
    byte[] h = Npy.header(Npy.FLOAT32, new long[] {4800, 64, 64, 3});
    assertThat(h.length % 64).isZero();
    assertThat(new String(h, 0, 8, java.nio.charset.StandardCharsets.ISO_8859_1)).isEqualTo("\u0093NUMPY\u0001\u0000");
    assertThat(new String(h, 10, h.length - 10, java.nio.charset.StandardCharsets.ISO_8859_1))
        .startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (4800, 64, 64, 3), }").endsWith("\n");
    assertThat(new String(Npy.header(Npy.INT32, new long[] {5}), java.nio.charset.StandardCharsets.ISO_8859_1))
        .contains("'shape': (5,)");
  }

  @Test
  void refusesDataThatDoesNotFillTheShape() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Npy.ofBytes(new byte[5], 2, 3))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void emptyArraysRoundTrip() throws Exception {
    Npy.write(tmp.resolve("e.npy"), Npy.ofInts(new int[0], 0, 5));
    assertThat(Npy.read(tmp.resolve("e.npy")).shape()).containsExactly(0, 5);
    assertThat(Files.size(tmp.resolve("e.npy")) % 64).isZero();
  }
}
