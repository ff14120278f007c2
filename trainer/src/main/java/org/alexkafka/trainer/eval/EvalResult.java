package org.alexkafka.trainer.eval;

/**
 * Validation errors (fractions in 0..1). Centre: the centre crop (variant 0) alone; ten-view: the
 * average softmax of all views of an image (the paper's 10 patches), over the images whose views
 * all arrived.
 */
public record EvalResult(int images, double centreTop1Error, double centreTop5Error,
                         int tenViewImages, double tenViewTop1Error, double tenViewTop5Error, int incomplete) {

  public String summary() {
    return String.format(java.util.Locale.ROOT, "val images=%d top1_error=%.4f top5_error=%.4f | 10-view images=%d "
            + "top1_error=%.4f top5_error=%.4f | incomplete=%d",
        images, centreTop1Error, centreTop5Error, tenViewImages, tenViewTop1Error, tenViewTop5Error, incomplete);
  }
}
