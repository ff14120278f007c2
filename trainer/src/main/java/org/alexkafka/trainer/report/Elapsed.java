package org.alexkafka.trainer.report;

import java.util.Locale;

/** Wall time as people read it on a clock: "0:07", "12:05", "3:02:05", "2 d 3:02:05". */
final class Elapsed {

  private Elapsed() {}

  static String format(double seconds) {
    if (Double.isNaN(seconds)) {
      return "?";
    }
    long s = Math.round(Math.abs(seconds));
    String sign = seconds < 0 ? "-" : "";
    long days = s / 86_400;
    long hours = s / 3600 % 24;
    long minutes = s / 60 % 60;
    long secs = s % 60;
    if (days > 0) {
      return String.format(Locale.ROOT, "%s%d d %d:%02d:%02d", sign, days, hours, minutes, secs);
    }
    if (hours > 0) {
      return String.format(Locale.ROOT, "%s%d:%02d:%02d", sign, hours, minutes, secs);
    }
    return String.format(Locale.ROOT, "%s%d:%02d", sign, minutes, secs);
  }
}
