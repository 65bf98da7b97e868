"""Benchmark of ROI extraction: accuracy on phantoms, speed and memory at 512^3.

Run: ``.venv/bin/python bench/bench_roi.py [--instances 24] [--size 512]``

1. Accuracy: ``--instances`` phantoms (both parts, random poses, with
   defects, 128 x 128 x 64): part bbox IoU against the ground-truth
   part_mask, angle error of the transformer, ROI on air-only slices, planted
   defect voxels outside every tile.
2. Speed and memory: a 512^3 uint16 volume (a 128^3 phantom's materials
   upsampled 4x, with noise) written as TIFF, opened memory-mapped with
   ``open_volume`` and run through ``extract_roi`` in a fresh process; wall
   time and peak RSS above the process's baseline, relative to the volume size.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ctreview.phantom import make_phantom  # noqa: E402
from ctreview.roi import extract_roi  # noqa: E402


def bbox_of(mask):
    lo, hi = [], []
    for axis in range(3):
        hit = np.flatnonzero(mask.any(axis=tuple(a for a in range(3) if a != axis)))
        lo.append(int(hit[0]))
        hi.append(int(hit[-1]) + 1)
    return lo + hi


def iou(a, b):
    inter = np.prod([max(0, min(a[i + 3], b[i + 3]) - max(a[i], b[i])) for i in range(3)])
    vol = lambda box: np.prod([box[i + 3] - box[i] for i in range(3)])  # noqa: E731
    return float(inter / (vol(a) + vol(b) - inter))


def missed_defect_voxels(ph, roi) -> int:
    T, missed = roi.tile_size, 0
    for z, y, x in np.argwhere(ph.defect_mask > 0):
        sl = roi.slices.get(int(z))
        if sl is None or not any(ty <= y < ty + T and tx <= x < tx + T for ty, tx in sl.tiles):
            missed += 1
    return missed


def accuracy(n: int) -> None:
    print(f"== accuracy on {n} phantoms (128 x 128 x 64, defective, random pose) ==")
    rows = []
    for i in range(n):
        part = ("transformer", "capacitor")[i % 2]
        ph = make_phantom(part, defective=True, seed=1000 + i)
        t = time.perf_counter()
        roi = extract_roi(ph.volume, "auto")
        dt = time.perf_counter() - t
        err = (roi.angle_deg - ph.angle_deg + 90) % 180 - 90 if part == "transformer" else float("nan")
        air = sum(1 for k in roi.slices if not ph.part_mask[k].any())
        rows.append((part, iou(roi.part_bbox, bbox_of(ph.part_mask)), abs(err), air,
                     missed_defect_voxels(ph, roi), roi.profile.name == part, dt))
        print(f"{i:3d} {part:12s} iou {rows[-1][1]:.3f}  angle err {abs(err):5.2f}  "
              f"air-slice ROIs {air}  missed defect voxels {rows[-1][4]}  auto={roi.profile.name}  {dt:.2f}s")
    ious = [r[1] for r in rows]
    errs = [r[2] for r in rows if r[0] == "transformer"]
    print(f"bbox IoU: min {min(ious):.3f}, mean {np.mean(ious):.3f}")
    print(f"transformer angle error: max {max(errs):.2f} deg, mean {np.mean(errs):.2f} deg")
    print(f"ROIs on air-only slices: {sum(r[3] for r in rows)}; missed defect voxels: {sum(r[4] for r in rows)}")
    mean_s = np.mean([r[6] for r in rows])
    print(f"auto profile correct: {sum(r[5] for r in rows)}/{n}; mean extract time {mean_s:.2f}s")


def make_big(path: Path, size: int) -> list[int]:
    """Write a size^3 uint16 TIFF built from a phantom's materials; return its true part bbox."""
    from ctreview.io import write_tiff
    from ctreview.phantom._ctsim import to_uint16
    from ctreview.phantom._materials import ATTENUATION, FIXTURE_MATERIALS
    from ctreview.phantom.phantom import build_labels

    f = size // 128
    labels, *_ = build_labels("transformer", size=128, slices=128, defective=True, seed=7)
    rng = np.random.default_rng(0)
    big = np.empty((size, size, size), np.uint16)
    for k in range(128):
        plane = np.repeat(np.repeat(ATTENUATION[labels[k]], f, 0), f, 1)
        for j in range(f):
            big[k * f + j] = to_uint16(plane + rng.normal(0, 0.04, plane.shape).astype(np.float32))
    write_tiff(path, big, (0.05, 0.05, 0.05))
    part = (labels > 0) & ~np.isin(labels, FIXTURE_MATERIALS)
    return [v * f for v in bbox_of(part)]


CHILD = """
import json, sys, time
from ctreview.io import open_volume
from ctreview.roi import extract_roi

def status(key):  # kB; VmHWM is this process's own peak (ru_maxrss can carry the parent's)
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1])

base = status("VmRSS:")
vol = open_volume(sys.argv[1])
t = time.perf_counter()
roi = extract_roi(vol, "whole-part")
dt = time.perf_counter() - t
print(json.dumps({"seconds": dt, "base_kb": base, "peak_kb": status("VmHWM:"), "bbox": list(roi.part_bbox),
                  "slices": len(roi.slices), "tiles": sum(len(s.tiles) for s in roi.slices.values())}))
"""


def speed(size: int) -> None:
    print(f"== speed and memory: {size}^3 uint16 ==")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.tif"
        truth = make_big(path, size)
        nbytes = size ** 3 * 2
        for run in range(3):
            out = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            extra = (r["peak_kb"] - r["base_kb"]) * 1024
            print(f"run {run}: extract_roi {r['seconds']:.2f} s; peak RSS {r['peak_kb'] / 1024:.0f} MiB, "
                  f"{extra / 2**20:.0f} MiB above baseline = {extra / nbytes:.2f}x the volume "
                  f"({nbytes / 2**20:.0f} MiB); bbox {r['bbox']} (truth {truth}, IoU {iou(r['bbox'], truth):.3f}); "
                  f"{r['slices']} slices, {r['tiles']} tiles")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=24)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--skip-accuracy", action="store_true")
    args = parser.parse_args()
    if not args.skip_accuracy:
        accuracy(args.instances)
    speed(args.size)


if __name__ == "__main__":
    main()
