package org.alexkafka.trainer.report;

/** One evaluation on the validation split: centre crop and the paper's 10-view average. */
public record EvalPoint(long iteration, int epoch, double top1Error, double top5Error,
                        double top1Error10View, double top5Error10View) {}
