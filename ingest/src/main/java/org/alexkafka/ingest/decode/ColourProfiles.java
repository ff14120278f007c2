package org.alexkafka.ingest.decode;

import java.awt.Point;
import java.awt.color.ColorSpace;
import java.awt.color.ICC_ColorSpace;
import java.awt.color.ICC_Profile;
import java.awt.image.ColorConvertOp;
import java.awt.image.DataBufferByte;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.alexkafka.ingest.resize.Pixels;

/**
 * Fast colour management. Converting a photo through LittleCMS costs more than decoding it, and
 * most embedded profiles are plain sRGB, so: profiles that are sRGB are recognised (by their
 * description) and skipped; other profiles are converted once, on the small resized raster, with
 * one cached transform per distinct profile.
 */
public final class ColourProfiles {

  private static final int MAX_CACHED = 64;
  private static final Map<ProfileKey, Boolean> SRGB_VERDICTS = new ConcurrentHashMap<>();
  private static final Map<ProfileKey, ColorConvertOp> TRANSFORMS = new ConcurrentHashMap<>();
  private static final ColorSpace SRGB = ColorSpace.getInstance(ColorSpace.CS_sRGB);

  private ColourProfiles() {}

  /** True when pixels in this colour space can be used as sRGB without conversion. */
  public static boolean isSrgb(ColorSpace cs) {
    if (cs.isCS_sRGB()) {
      return true;
    }
    if (!(cs instanceof ICC_ColorSpace icc) || cs.getType() != ColorSpace.TYPE_RGB) {
      return false;
    }
    ICC_Profile profile = icc.getProfile();
    ProfileKey key = new ProfileKey(profile.getData());
    if (SRGB_VERDICTS.size() > MAX_CACHED) {
      SRGB_VERDICTS.clear();
    }
    return SRGB_VERDICTS.computeIfAbsent(key, k -> describesSrgb(profile));
  }

  /** "sRGB IEC61966-2.1", "sRGB built-in", "sRGB v4 ICC preference": the sRGB profiles in the wild. */
  static boolean describesSrgb(ICC_Profile profile) {
    byte[] desc = profile.getData(ICC_Profile.icSigProfileDescriptionTag);
    if (desc == null) {
      return false;
    }
    // 'desc' (v2) stores ASCII, 'mluc' (v4) UTF-16BE: searching both spellings covers either.
    String ascii = new String(desc, StandardCharsets.ISO_8859_1);
    String utf16 = new String(desc, StandardCharsets.UTF_16BE);
    return ascii.contains("sRGB") || utf16.contains("sRGB") || new String(desc, 1, desc.length - 1, StandardCharsets.UTF_16BE).contains("sRGB");
  }

  /** Converts interleaved RGB samples in {@code profile} to sRGB, in place of a copy. */
  public static Pixels toSrgb(Pixels rgb, ICC_ColorSpace profile) {
    ProfileKey key = new ProfileKey(profile.getProfile().getData());
    if (TRANSFORMS.size() > MAX_CACHED) {
      TRANSFORMS.clear();
    }
    ColorConvertOp op = TRANSFORMS.computeIfAbsent(key, k -> new ColorConvertOp(profile, SRGB, null));
    int w = rgb.width();
    int h = rgb.height();
    int[] offsets = {0, 1, 2};
    Raster src = Raster.createInterleavedRaster(new DataBufferByte(rgb.data(), rgb.data().length), w, h, w * 3, 3, offsets, (Point) null);
    byte[] out = new byte[rgb.data().length];
    WritableRaster dst = Raster.createInterleavedRaster(new DataBufferByte(out, out.length), w, h, w * 3, 3, offsets, (Point) null);
    synchronized (op) { // a ColorConvertOp keeps per-call state
      op.filter(src, dst);
    }
    return new Pixels(w, h, 3, out);
  }

  private record ProfileKey(byte[] data) {
    @Override
    public boolean equals(Object o) {
      return o instanceof ProfileKey k && Arrays.equals(data, k.data);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(data);
    }
  }
}
