package org.alexkafka.augment.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.List;
import org.alexkafka.augment.testing.TestImages;
import org.alexkafka.schemas.Sample;
import org.alexkafka.schemas.serde.RecordSerdes;
import org.junit.jupiter.api.Test;

class RoutedSerializerTest {

  @Test
  void writesExactlyTheBytesOfTheSharedSampleSerde() {
    Sample s = Sample.newBuilder().setImageId("id").setClassIndex(2).setLabel("n1").setImageSize(256).setCropSize(224)
        .setCropX(3).setCropY(31).setMirrored(true).setLighting(List.of(1.5f, -2f, 0.25f)).setVariant(7).setViews(1)
        .setPixels(ByteBuffer.wrap(TestImages.randomPixels(224, 1))).build();
    byte[] ours = new RoutedSerializer().serialize("t", new Routed("t", s));
    assertThat(ours).containsExactly(RecordSerdes.sample().serialize("t", s));
    assertThat(RecordSerdes.sample().deserialize("t", ours)).isEqualTo(s);
  }
}
