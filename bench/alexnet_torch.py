#!/usr/bin/env python3
"""PyTorch peer for `bench-train`: AlexNet, one training step (forward, cross-entropy, backward,
SGD momentum 0.9 + weight decay 5e-4) on random input, timed like the ND4J side: warm-up steps,
then the timed steps in samples of --block steps each, the median sample kept.

The network is the trainer's (org.alexkafka.trainer.model.AlexNet) at the widths given: by default
the paper's (227 input, 96-256-384-384-256 maps, fc 4096, 1000 classes); `bench-train --profile
small` passes the small profile's (64 input, conv1 padded by 2, 24-64-96-96-64 maps, fc 256, 10
classes).

Prints ONE line of key=value pairs (the bench parses it):
  engine=pytorch batch=.. img_s=.. step_s=.. cpu_s=.. sys_share=.. minflt_step=.. peak_rss_mb=.. threads=.. torch=..

Run one batch size per process so peak RSS (VmHWM) belongs to that batch size alone.
"""
import argparse
import resource
import statistics
import time

import torch
import torch.nn as nn


def map_side(size: int, pad1: int) -> int:
    side = (size + 2 * pad1 - 11) // 4 + 1
    for _ in range(3):
        side = (side - 3) // 2 + 1
    return side


def alexnet(classes: int = 1000, size: int = 227, pad1: int = 0,
            widths=(96, 256, 384, 384, 256, 4096)) -> nn.Sequential:
    c1, c2, c3, c4, c5, fc = widths
    side = map_side(size, pad1)
    # LRN: the paper divides nothing by n (k + alpha * sum a^2); torch's LocalResponseNorm
    # uses alpha/n, so alpha is 5 * 1e-4 here to give the same numbers as DL4J's LRN.
    return nn.Sequential(
        nn.Conv2d(3, c1, 11, stride=4, padding=pad1), nn.ReLU(inplace=True),
        nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0), nn.MaxPool2d(3, 2),
        nn.Conv2d(c1, c2, 5, padding=2), nn.ReLU(inplace=True),
        nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0), nn.MaxPool2d(3, 2),
        nn.Conv2d(c2, c3, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(c3, c4, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(c4, c5, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Flatten(),
        nn.Linear(c5 * side * side, fc), nn.ReLU(inplace=True), nn.Dropout(0.5),
        nn.Linear(fc, fc), nn.ReLU(inplace=True), nn.Dropout(0.5),
        nn.Linear(fc, classes),
    )


def usage():
    return resource.getrusage(resource.RUSAGE_SELF)


def cpu_seconds() -> float:
    r = usage()
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
    p.add_argument("--block", type=int, default=1, help="steps per timed sample")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--size", type=int, default=227)
    p.add_argument("--classes", type=int, default=1000)
    p.add_argument("--pad1", type=int, default=0, help="zero padding of conv1 on each side")
    p.add_argument("--widths", default="96,256,384,384,256,4096", help="conv1..conv5 maps and fc width")
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(42)
    net = alexnet(a.classes, a.size, a.pad1, tuple(int(w) for w in a.widths.split(",")))
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.rand(a.batch, 3, a.size, a.size)
    y = torch.arange(a.batch) % a.classes

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()

    for _ in range(a.warmup):
        step()
    block = max(1, min(a.block, a.steps))
    times, cpus = [], []
    r0 = usage()
    for _ in range(max(1, a.steps // block)):
        c0, t0 = cpu_seconds(), time.perf_counter()
        for _ in range(block):
            step()
        times.append((time.perf_counter() - t0) / block)
        cpus.append((cpu_seconds() - c0) / block)
    r1 = usage()
    timed = len(times) * block
    user, system = r1.ru_utime - r0.ru_utime, r1.ru_stime - r0.ru_stime
    t = statistics.median(times)
    print(f"engine=pytorch batch={a.batch} img_s={a.batch / t:.3f} step_s={t:.5f} "
          f"cpu_s={statistics.median(cpus):.5f} sys_share={system / max(user + system, 1e-9):.4f} "
          f"minflt_step={(r1.ru_minflt - r0.ru_minflt) / timed:.1f} peak_rss_mb={peak_rss_mb()} "
          f"threads={torch.get_num_threads()} torch={torch.__version__}", flush=True)


if __name__ == "__main__":
    main()
