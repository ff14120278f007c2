package org.alexkafka.trainer.eval;

/**
 * Validation errors (fractions in 0..1). Centre: the centre crop (variant 0) alone; ten-view: the
 * average softmax of all views of an image (the paper's 10 patches), over the images whose views
 * all arrived.
 */
public record EvalResult(int images, double centreTop1Error, double centreTop5Error,
                         int tenViewImages, double tenViewTop1Error, double tenViewTop5Error, int incomplete) {

  public String summary() {
    return String.format("val images=%d top1err=%.4f top5err=%.4f | %d-view images=%d top1err=%.4f top5err=%.4f | incomplete=%d",
        images, centreTop1Error, centreTop5Error, 10, tenViewImages, tenViewTop1Error, tenViewTop5Error, incomplete);
  }
}
