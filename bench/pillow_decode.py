#!/usr/bin/python3
"""Peer for `bench-decode`: the same decode + resize + centre crop in Pillow or OpenCV.

Pillow: Image.open -> convert('RGB') -> resize(shorter side = SIZE, BILINEAR) -> centre crop.
OpenCV: imdecode(IMREAD_COLOR) -> resize(shorter side = SIZE, INTER_AREA) -> centre crop.
Files are read into memory first (like the Java side); each worker process decodes them in a loop
for --seconds and the script prints one line: images_per_s=<wall-clock total over all processes>
images_per_cpu_s=<images per CPU-second of one process> (the per-core figure that a busy machine
disturbs least).
"""
import argparse
import io
import multiprocessing as mp
import sys
import time


def scaled(w, h, size):
    if w <= h:
        return size, max(size, round(h * size / w))
    return max(size, round(w * size / h)), size


def pillow_one(data, size):
    from PIL import Image
    im = Image.open(io.BytesIO(data)).convert('RGB')
    w, h = scaled(im.width, im.height, size)
    im = im.resize((w, h), Image.BILINEAR)
    x0, y0 = (w - size) // 2, (h - size) // 2
    return im.crop((x0, y0, x0 + size, y0 + size)).tobytes()


def opencv_one(data, size):
    import cv2
    import numpy as np
    cv2.setNumThreads(1)
    im = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    h0, w0 = im.shape[:2]
    w, h = scaled(w0, h0, size)
    im = cv2.resize(im, (w, h), interpolation=cv2.INTER_AREA)
    x0, y0 = (w - size) // 2, (h - size) // 2
    return cv2.cvtColor(im[y0:y0 + size, x0:x0 + size], cv2.COLOR_BGR2RGB).tobytes()


def worker(args):
    mode, paths, size, seconds = args
    blobs = [open(p, 'rb').read() for p in paths]
    one = pillow_one if mode == 'pillow' else opencv_one
    for b in blobs:  # warm-up pass
        one(b, size)
    n = 0
    start = time.perf_counter()
    cpu0 = time.process_time()
    while time.perf_counter() - start < seconds:
        for b in blobs:
            one(b, size)
            n += 1
    return n / (time.perf_counter() - start), n / (time.process_time() - cpu0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--mode', choices=['pillow', 'opencv'], default='pillow')
    ap.add_argument('--procs', type=int, default=1)
    ap.add_argument('--seconds', type=float, default=5.0)
    ap.add_argument('--size', type=int, default=256)
    ap.add_argument('--version', action='store_true')
    ap.add_argument('--dump', metavar='DIR', help='write each crop as DIR/<index>.rgb (raw RGB) and exit')
    ap.add_argument('files', nargs='*')
    a = ap.parse_args()
    if a.version:
        try:
            import PIL
            pil = PIL.__version__
        except ImportError:
            pil = 'missing'
        try:
            import cv2
            cv = cv2.__version__
        except ImportError:
            cv = 'missing'
        print(f'pillow={pil} opencv={cv}')
        return
    if not a.files:
        sys.exit('no files given')
    if a.dump:
        one = pillow_one if a.mode == 'pillow' else opencv_one
        for i, f in enumerate(a.files):
            with open(f, 'rb') as src, open(f'{a.dump}/{i}.rgb', 'wb') as out:
                out.write(one(src.read(), a.size))
        print(f'dumped={len(a.files)}')
        return
    if a.procs == 1:
        rates = [worker((a.mode, a.files, a.size, a.seconds))]
    else:
        with mp.Pool(a.procs) as pool:
            rates = pool.map(worker, [(a.mode, a.files, a.size, a.seconds)] * a.procs)
    wall = sum(r[0] for r in rates)
    per_cpu_second = sum(r[1] for r in rates) / len(rates)
    print(f'images_per_s={wall:.2f} images_per_cpu_s={per_cpu_second:.2f}')


if __name__ == '__main__':
    main()
