#!/usr/bin/env python3
"""PyTorch peer of `bench-learn`: the trainer's recipe, on the very samples the trainer read.

Input: the folder `SampleExport` writes from the topics (samples.train, samples.val, the mean image
of the stats topic, and meta.json with the trainer's configuration and network spec):

  mean.npy float32 [H,W,3]; train_pixels.npy uint8 [N,C,C,3]; train_info.npy int32 [N,5]
  (class, crop x, crop y, mirrored, variant); train_lighting.npy float32 [N,3];
  val_pixels.npy, val_info.npy int32 [M,7] (class, x, y, mirrored, view, views, image), val_lighting.npy

The recipe, as the trainer runs it (trainer/.../data/BatchAssembler, model/AlexNet, optim/PaperMomentum,
train/LearningRateSchedule, train/Trainer, eval/Evaluator):
- batch: float32 pixel - mean[cropY+y, cropX+x'] + lighting, x' = C-1-x for mirrored crops; NCHW.
- net: AlexNetSpec's layers (conv1 11/4 padded, ReLU, LRN, maxpool 3/2; conv2 5 pad 2, ReLU, LRN,
  pool; conv3-5 3 pad 1, ReLU; pool; fc6, fc7 ReLU + dropout; fc8 softmax), LRN b = a/(2 + 1e-4
  sum_5 a^2)^0.75 (torch divides alpha by n, so alpha = 5e-4 here); weights N(0, initStd), biases 1
  in conv2, conv4, conv5, fc6, fc7 and 0 elsewhere.
- update: v <- 0.9 v - 0.0005 lr w - lr dL/dw (weight decay on weights only), w <- w + v;
  mean cross-entropy over the batch.
- order: a fresh global permutation of all N samples every epoch (drawn from (seed, epoch)); an
  epoch is ceil(N / batch) steps, the last one partial.
- lr: the plateau rule: after each epoch's evaluation the centre top-1 error improves when it is
  below best * (1 - threshold); after `patience` evaluations without improvement lr /= 10, and at
  the plateau after `maxReductions` reductions the run ends; error 0 ends it as converged.
- evaluation (eval mode, no dropout): centre view (view 0) alone, and the average softmax of all
  views of an image; top-1 counts a hit when no class scores strictly higher than the true one.
- limits: the trainer's maxSeconds (wall time from the start of training, evaluations included)
  and epochs; a run stopped by time ends with an evaluation.

Writes one JSON line per evaluation to --out (the fields of LearnCurve) and prints, last,
  engine=pytorch torch=.. threads=.. epochs=.. samples=.. seconds=.. top1=.. top1_10v=.. end=..
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MOMENTUM = 0.9
WEIGHT_DECAY = 0.0005


class Data:
    def __init__(self, folder: str, split: str, mean: np.ndarray, crop: int):
        self.pixels = np.load(os.path.join(folder, f"{split}_pixels.npy"))
        self.info = np.load(os.path.join(folder, f"{split}_info.npy"))
        self.lighting = np.load(os.path.join(folder, f"{split}_lighting.npy"))
        self.labels = torch.from_numpy(self.info[:, 0].astype(np.int64))
        self.mean = mean
        self.crop = crop
        self.ar = np.arange(crop)

    def __len__(self) -> int:
        return len(self.info)

    def batch(self, idx: np.ndarray) -> torch.Tensor:
        """What BatchAssembler.features builds, for the samples idx."""
        c = self.crop
        x, y, mirrored = self.info[idx, 1], self.info[idx, 2], self.info[idx, 3]
        rows = y[:, None] + self.ar[None, :]                                   # [b, C]
        cols = np.where(mirrored[:, None] == 1, x[:, None] + (c - 1 - self.ar)[None, :], x[:, None] + self.ar[None, :])
        mean_crop = self.mean[rows[:, :, None], cols[:, None, :]]              # [b, C, C, 3]
        out = self.pixels[idx].astype(np.float32) - mean_crop
        out += self.lighting[idx][:, None, None, :]
        return torch.from_numpy(np.ascontiguousarray(out.transpose(0, 3, 1, 2)))


def network(spec: dict) -> nn.Sequential:
    c1, c2, c3, c4, c5, fc = (spec[k] for k in ("conv1", "conv2", "conv3", "conv4", "conv5", "fc"))
    if spec.get("towers", 1) != 1:
        raise SystemExit("learn_torch.py builds the one-tower network only")
    side = spec["finalSide"]
    p = spec["dropout"]

    def lrn():
        return nn.LocalResponseNorm(5, alpha=5 * 1e-4, beta=0.75, k=2.0)

    layers = [
        nn.Conv2d(3, c1, 11, stride=4, padding=spec["conv1Padding"]), nn.ReLU(inplace=True), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(c1, c2, 5, padding=2), nn.ReLU(inplace=True), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(c2, c3, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(c3, c4, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(c4, c5, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Flatten(),
        nn.Linear(c5 * side * side, fc), nn.ReLU(inplace=True)] + ([nn.Dropout(p)] if p > 0 else []) + [
        nn.Linear(fc, fc), nn.ReLU(inplace=True)] + ([nn.Dropout(p)] if p > 0 else []) + [
        nn.Linear(fc, spec["classes"]),
    ]
    net = nn.Sequential(*layers)
    learned = [m for m in net if isinstance(m, (nn.Conv2d, nn.Linear))]
    biases = [0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0]  # conv1..conv5, fc6, fc7, fc8
    with torch.no_grad():
        for m, b in zip(learned, biases):
            m.weight.normal_(0.0, spec["initStd"])
            m.bias.fill_(b)
    return net


def parameters(net: nn.Sequential):
    """(parameter, velocity, decayed) for every learned tensor: weight decay on weights only."""
    out = []
    for m in net:
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            out.append((m.weight, torch.zeros_like(m.weight), True))
            out.append((m.bias, torch.zeros_like(m.bias), False))
    return out


def sgd_step(params, lr: float) -> None:
    """The paper's update (PaperMomentum + DL4J's l2): v <- 0.9 v - lr (dL/dw + 0.0005 w), w <- w + v."""
    with torch.no_grad():
        for p, v, decayed in params:
            g = p.grad + WEIGHT_DECAY * p if decayed else p.grad
            v.mul_(MOMENTUM).sub_(g, alpha=lr)
            p.add_(v)


def train_step(net: nn.Sequential, params, x: torch.Tensor, y: torch.Tensor, lr: float) -> float:
    """Mean cross-entropy of the batch, backward, update; returns the loss."""
    loss = F.cross_entropy(net(x), y)
    for p, _, _ in params:
        p.grad = None
    loss.backward()
    sgd_step(params, lr)
    return float(loss)


class Plateau:
    """LearningRateSchedule's plateau rule."""

    def __init__(self, lr_cfg: dict):
        self.kind = lr_cfg["kind"]
        self.lr = lr_cfg["initial"]
        self.patience = max(1, lr_cfg["patience"])
        self.threshold = lr_cfg.get("threshold", 0.0)
        self.max_reductions = lr_cfg.get("maxReductions", None)  # None: never ends the run
        self.steps = lr_cfg.get("steps") or []
        self.initial = self.lr
        self.best = math.nan
        self.since = 0
        self.reductions = 0

    def at_epoch_start(self, epoch: int) -> float:
        if self.kind == "steps":
            passed = sum(1 for s in self.steps if epoch > s)
            self.lr = self.initial * 0.1 ** passed
            self.reductions = passed
        return self.lr

    def after_validation(self, error: float) -> str:
        if math.isnan(error):
            return "KEEP"
        improved = math.isnan(self.best) or error < self.best * (1 - self.threshold)
        self.best = error if math.isnan(self.best) else min(error, self.best)
        self.since = 0 if improved else self.since + 1
        if self.kind != "plateau":
            return "KEEP"
        if error == 0 and self.max_reductions is not None:
            return "STOP_CONVERGED"
        if self.since < self.patience:
            return "KEEP"
        if self.max_reductions is not None and self.reductions >= self.max_reductions:
            return "STOP_PLATEAU"
        self.lr /= 10
        self.since = 0
        self.reductions += 1
        return "REDUCE"


def lr_settings(cfg: dict) -> dict:
    """The trainer's schedule settings: a nested `lr` record, or the older flat fields."""
    if isinstance(cfg.get("lr"), dict):
        return cfg["lr"]
    return {"kind": cfg["lrSchedule"], "initial": cfg["learningRate"], "patience": cfg["patience"],
            "threshold": 0.0, "steps": cfg.get("lrSteps") or []}


def ranks(probs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """How many classes score strictly higher than the true one (0: a top-1 hit), as the evaluator counts."""
    target = probs.gather(1, labels[:, None])
    return (probs > target).sum(dim=1)


def evaluate(net: nn.Module, val: Data, batch: int):
    net.eval()
    info = val.info
    images = int(info[:, 6].max()) + 1 if len(info) else 0
    sums = torch.zeros(images, net[-1].out_features)
    seen = np.zeros(images, dtype=np.int64)
    centre_hits = centre_hits5 = centre_n = 0
    with torch.no_grad():
        for start in range(0, len(val), batch):
            idx = np.arange(start, min(start + batch, len(val)))
            probs = F.softmax(net(val.batch(idx)), dim=1)
            labels = val.labels[idx]
            centre = torch.from_numpy(info[idx, 4] == 0)
            if centre.any():
                r = ranks(probs[centre], labels[centre])
                centre_hits += int((r == 0).sum())
                centre_hits5 += int((r < 5).sum())
                centre_n += int(centre.sum())
            img = torch.from_numpy(info[idx, 6].astype(np.int64))
            sums.index_add_(0, img, probs)
            np.add.at(seen, info[idx, 6], 1)
    net.train()
    views = np.zeros(images, dtype=np.int64)
    views[info[:, 6]] = info[:, 5]
    labels = torch.zeros(images, dtype=torch.int64)
    labels[torch.from_numpy(info[:, 6].astype(np.int64))] = val.labels
    complete = torch.from_numpy(seen == views)
    multi_n = int(complete.sum())
    r = ranks(sums[complete], labels[complete]) if multi_n else torch.zeros(0)
    err = lambda hits, n: 1.0 - hits / n if n else math.nan
    return (err(centre_hits, centre_n), err(centre_hits5, centre_n),
            err(int((r == 0).sum()), multi_n), err(int((r < 5).sum()), multi_n))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--export", required=True, help="folder written by SampleExport")
    ap.add_argument("--out", required=True, help="curve, JSON lines")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-seconds", type=float, default=None, help="default: the trainer's maxSeconds")
    ap.add_argument("--epochs", type=int, default=None, help="default: the trainer's epochs")
    ap.add_argument("--seed", type=int, default=None, help="default: the trainer's seed")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    with open(os.path.join(a.export, "meta.json")) as f:
        meta = json.load(f)
    cfg, spec = meta["trainer_config"], meta["spec"]
    seed = cfg["seed"] if a.seed is None else a.seed
    max_seconds = cfg["maxSeconds"] if a.max_seconds is None else a.max_seconds
    epochs = cfg["epochs"] if a.epochs is None else a.epochs
    batch = cfg["batchSize"]
    crop = meta["crop_size"]

    mean = np.load(os.path.join(a.export, "mean.npy"))
    train = Data(a.export, "train", mean, crop)
    val = Data(a.export, "val", mean, crop)
    n = len(train)
    steps_per_epoch = (n + batch - 1) // batch
    print(f"# torch {torch.__version__}, {a.threads} threads: {n} training samples, {len(val)} validation views, "
          f"batch {batch}, {steps_per_epoch} steps per epoch, max {max_seconds} s, {epochs} epochs", flush=True)

    started = time.perf_counter()
    torch.manual_seed(seed)
    net = network(spec)
    net.train()
    params = parameters(net)
    schedule = Plateau(lr_settings(cfg))

    curve = open(a.out, "w")
    epoch, iteration, samples = 1, 0, 0
    last_eval_iteration = -1
    lr = schedule.at_epoch_start(epoch)
    perm = np.random.default_rng([seed, epoch]).permutation(n)
    pos = 0
    ended = None
    last = (math.nan, math.nan)
    train_seconds = 0.0

    def record(epoch_end: bool):
        nonlocal last, last_eval_iteration
        e1, e5, e10, e10_5 = evaluate(net, val, batch)
        last, last_eval_iteration = (e1, e10), iteration
        row = {"epoch": epoch, "iteration": iteration, "samples": samples, "seconds": time.perf_counter() - started,
               "top1": e1, "top5": e5, "top1_10v": e10, "top5_10v": e10_5, "lr": lr, "epoch_end": epoch_end}
        curve.write(json.dumps({k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}) + "\n")
        curve.flush()
        print(f"# torch epoch {epoch} iter {iteration} | {row['seconds']:.1f} s | val top1err={e1:.4f} "
              f"10-view top1err={e10:.4f} | lr {lr:g} | {samples / max(train_seconds, 1e-9):.0f} img/s training", flush=True)

    while True:
        if epoch > epochs:
            ended = "EPOCHS_DONE"
            break
        if max_seconds and time.perf_counter() - started > max_seconds:
            ended = "TIME_LIMIT"
            break
        t0 = time.perf_counter()
        idx = perm[pos:pos + batch]
        pos += len(idx)
        epoch_over = len(idx) < batch
        if len(idx):
            train_step(net, params, train.batch(idx), train.labels[idx], lr)
            iteration += 1
            samples += len(idx)
            train_seconds += time.perf_counter() - t0
        if epoch_over:
            record(True)
            decision = schedule.after_validation(last[0])
            if decision == "REDUCE":
                print(f"# torch lr {lr:g} -> {schedule.lr:g} (reduction {schedule.reductions})", flush=True)
                lr = schedule.lr
            elif decision.startswith("STOP"):
                ended = "PLATEAU" if decision == "STOP_PLATEAU" else "CONVERGED"
                break
            epoch += 1
            if epoch > epochs:
                ended = "EPOCHS_DONE"
                break
            lr = schedule.at_epoch_start(epoch)
            perm = np.random.default_rng([seed, epoch]).permutation(n)
            pos = 0
    if ended == "TIME_LIMIT" and iteration > 0 and last_eval_iteration != iteration:
        record(False)
    curve.close()
    print(f"engine=pytorch torch={torch.__version__} threads={torch.get_num_threads()} epochs={epoch} "
          f"iterations={iteration} samples={samples} seconds={time.perf_counter() - started:.1f} "
          f"train_img_s={samples / max(train_seconds, 1e-9):.1f} top1={last[0]:.4f} top1_10v={last[1]:.4f} end={ended}",
          flush=True)


if __name__ == "__main__":
    main()
