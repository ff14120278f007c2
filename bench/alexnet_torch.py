#!/usr/bin/env python3
"""PyTorch peer for `bench-train-speed`: the paper's AlexNet (227 input, 1000 classes), one
training step (forward, cross-entropy, backward, SGD momentum 0.9 + weight decay 5e-4) on random
input, timed like the ND4J side: warm-up step(s), then the median of N steps.

Prints ONE line of key=value pairs (the bench parses it):
  engine=pytorch batch=.. img_s=.. step_s=.. cpu_s=.. peak_rss_mb=.. threads=.. torch=..

Run one batch size per process so peak RSS (VmHWM) belongs to that batch size alone.
"""
import argparse
import resource
import statistics
import time

import torch
import torch.nn as nn


def alexnet(classes: int = 1000) -> nn.Sequential:
    # LRN: the paper divides nothing by n (k + alpha * sum a^2); torch's LocalResponseNorm
    # uses alpha/n, so alpha is 5 * 1e-4 here to give the same numbers as DL4J's LRN.
    return nn.Sequential(
        nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(inplace=True),
        nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(inplace=True),
        nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Flatten(),
        nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
        nn.Linear(4096, classes),
    )


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def peak_rss_mb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    return -1


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--size", type=int, default=227)
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(42)
    net = alexnet()
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.rand(a.batch, 3, a.size, a.size)
    y = torch.arange(a.batch) % 1000

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()

    for _ in range(a.warmup):
        step()
    times, cpus = [], []
    for _ in range(a.steps):
        c0, t0 = cpu_seconds(), time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
        cpus.append(cpu_seconds() - c0)
    t = statistics.median(times)
    print(f"engine=pytorch batch={a.batch} img_s={a.batch / t:.3f} step_s={t:.3f} "
          f"cpu_s={statistics.median(cpus):.3f} peak_rss_mb={peak_rss_mb()} "
          f"threads={torch.get_num_threads()} torch={torch.__version__}", flush=True)


if __name__ == "__main__":
    main()
