"""Exploration, not a product path: does comparing a slice's residual with its z-neighbours help?

    .venv/bin/python bench/explore_neighbour_contrast.py --part transformer

Scores the test phantoms of ``bench_detection.py`` (bench/.cache/test-<part>,
made there) in ``fast`` mode, stitches each slice's smoothed shift-tolerant
residual, and compares slice/pixel AUROC of

* the shipped statistic (per-pixel z-score against tile-position statistics);
* the raw smoothed residual;
* the residual minus the per-pixel median of the residuals of the ROI slices
  ``gap``..``reach`` slices away (the part is prismatic along z, so normal
  structure the generator renders badly repeats in the neighbours; a defect,
  a few slices deep, does not).

Results and what it would take to ship are in bench/results/model.md.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_detection import auroc  # noqa: E402


def stitched_maps(model, volume, roi) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return raw smoothed residual, z-score map and ROI mask, each (z, y, x), averaged over tile overlaps."""
    from ctreview.roi import cut_tiles

    shape = volume.shape
    raw, zmap, count = (np.zeros(shape, np.float32) for _ in range(3))
    t = model.tile_size
    for k, sroi in roi.slices.items():
        if not sroi.tiles:
            continue
        scored = model.score_tiles(cut_tiles(volume.slice(k), sroi.tiles, t), "fast")
        maps = model.raw_maps(scored.extra["local"]).numpy()
        for (y, x), r, zz in zip(sroi.tiles, maps, scored.maps):
            h, w = min(t, shape[1] - y), min(t, shape[2] - x)
            raw[k, y:y + h, x:x + w] += r[:h, :w]
            zmap[k, y:y + h, x:x + w] += zz[:h, :w]
            count[k, y:y + h, x:x + w] += 1
    mask = np.zeros(shape, bool)
    for k, sroi in roi.slices.items():
        if sroi.tiles:
            mask[k] = sroi.mask(shape[1:])
    mask &= count > 0
    c = np.maximum(count, 1)
    return raw / c, zmap / c, mask


def neighbour_median(maps: np.ndarray, mask: np.ndarray, gap: int, reach: int) -> np.ndarray:
    """Per-pixel median of the maps of ROI slices ``gap``..``reach`` away, shape (z, y, x)."""
    ref = np.zeros_like(maps)
    roi_slices = [k for k in range(len(maps)) if mask[k].any()]
    for k in roi_slices:
        near = [j for j in roi_slices if gap <= abs(j - k) <= reach]
        if near:
            ref[k] = np.median(maps[near], axis=0)
    return ref


def main() -> int:
    import tifffile

    from ctreview.io import open_volume
    from ctreview.model import bundled_model_path, load_model
    from ctreview.roi import extract_roi

    parser = argparse.ArgumentParser()
    parser.add_argument("--part", default="transformer")
    parser.add_argument("--gap", type=int, default=3)
    parser.add_argument("--reach", type=int, default=6)
    parser.add_argument("--model", type=Path, default=None, help="default: the bundled model of the part")
    parser.add_argument("--data", type=Path, default=None, help="test phantoms (default: bench_detection's)")
    args = parser.parse_args()
    data = args.data or ROOT / "bench" / ".cache" / f"test-{args.part}"
    if not (data / "labels.json").is_file():
        raise SystemExit(f"no test phantoms in {data}: run bench/bench_detection.py --part {args.part} first")
    model = load_model(args.model or bundled_model_path(args.part), "cpu")
    variants = {"shipped: z-score vs tile position": [], "raw smoothed residual": [],
                f"residual - median of slices {args.gap}..{args.reach} away": []}
    labels = json.loads((data / "labels.json").read_text())
    for stem, info in sorted(labels.items()):
        volume = open_volume(data / f"{stem}.tif")
        roi = extract_roi(volume, model.profile, tile_size=model.tile_size)
        raw, zmap, mask = stitched_maps(model, volume, roi)
        truth = tifffile.imread(data / "masks" / f"{stem}_defects.tif") > 0 if info["defective"] else None
        contrast = raw - neighbour_median(raw, mask, args.gap, args.reach)
        for maps, sink in zip((zmap, raw, contrast), variants.values()):
            sink.append((maps, mask, np.asarray(info["slices"]), truth))
    print(f"| {args.part} variant | slice AUROC | pixel AUROC |\n|---|---|---|")
    for name, runs in variants.items():
        s, lab, pix, pix_lab = [], [], [], []
        for maps, mask, slice_labels, truth in runs:
            for k in np.flatnonzero(mask.any(axis=(1, 2))):
                s.append(maps[k][mask[k]].max())
                lab.append(slice_labels[k])
                if truth is not None:
                    pix.append(maps[k][mask[k]])
                    pix_lab.append(truth[k][mask[k]])
        print(f"| {name} | {auroc(np.array(s), np.array(lab)):.3f} | "
              f"{auroc(np.concatenate(pix), np.concatenate(pix_lab)):.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
