package org.alexkafka.ingest.decode;

import java.awt.color.ICC_ColorSpace;
import org.alexkafka.ingest.resize.Pixels;

/**
 * A decoded picture, upright, before resizing: 8-bit samples in {@code order}, and, when the file
 * carried a colour profile other than sRGB, that profile ({@code null} means the samples are
 * already sRGB). The profile is applied after the resize, on 256x256 pixels instead of millions.
 */
public record DecodedImage(Pixels pixels, ChannelOrder order, ICC_ColorSpace profile, String format) {

  /** How the channels of {@link #pixels} are laid out. */
  public enum ChannelOrder {
    RGB, BGR, GRAY
  }
}
