package org.alexkafka.trainer.report;

/**
 * One evaluation on the validation split: centre crop and the paper's 10-view average.
 *
 * @param images validation images scored (-1: not recorded)
 */
public record EvalPoint(long iteration, int epoch, double top1Error, double top5Error,
                        double top1Error10View, double top5Error10View, long images) {

  public EvalPoint(long iteration, int epoch, double top1Error, double top5Error, double top1Error10View,
                   double top5Error10View) {
    this(iteration, epoch, top1Error, top5Error, top1Error10View, top5Error10View, -1);
  }
}
