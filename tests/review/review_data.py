"""Real test data for the review store and reports: a small CT-like volume on disk
and slice results computed from it with plain NumPy (no model needed).

The volume is a bright "part" box in noisy air with a dark void (the defect)
in a few slices; the heatmap of a slice is ``|slice - median slice|`` inside
the part box, the score the mean of the best 16 x 16 tile.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile

from ctreview.results import SliceResult

SHAPE = (24, 64, 64)
PART_BOX = (12, 12, 52, 52)          # (y0, x0, y1, x1)
DEFECT_SLICES = (10, 11, 12)
TILE = 16
SPACING = (0.5, 0.25, 0.25)


def make_array(seed: int = 0, shape: tuple[int, int, int] = SHAPE) -> np.ndarray:
    """Return a (z, y, x) uint16 volume: noisy part box, a void in DEFECT_SLICES."""
    rng = np.random.default_rng(seed)
    vol = rng.normal(1000, 30, size=shape)
    y0, x0, y1, x1 = PART_BOX
    vol[:, y0:y1, x0:x1] += 20000
    for z in DEFECT_SLICES:
        vol[z, 28:36, 30:38] -= 15000          # a void inside the part
    return np.clip(vol, 0, 65535).astype(np.uint16)


def write_tiff(path: Path, array: np.ndarray, spacing=SPACING) -> Path:
    """Write a multi-page ImageJ TIFF with voxel spacing (z, y, x) in mm."""
    tifffile.imwrite(path, array, imagej=True, resolution=(1 / spacing[2], 1 / spacing[1]),
                     metadata={"spacing": spacing[0], "unit": "mm", "axes": "ZYX"})
    return path


def open_test_volume(path: Path):
    """Open a file with ctreview.io when it exists, else wrap the TIFF pixels in a Volume."""
    try:
        from ctreview.io import open_volume
    except ImportError:
        from ctreview.io.volume import Volume
        return Volume.from_array(tifffile.imread(path), spacing=SPACING, path=path)
    return open_volume(path)


def compute_results(volume, threshold: float | None = None) -> tuple[list[SliceResult], float]:
    """Score every slice by its deviation from the median slice, inside PART_BOX.

    Returns the results and the threshold used for ``relative`` (by default
    twice the median score, so the defect slices are far above 1).
    """
    stack = volume.read().astype(np.float32)
    median = np.median(stack, axis=0)
    y0, x0, y1, x1 = PART_BOX
    raw = []
    for k in range(stack.shape[0]):
        heat = np.zeros(stack.shape[1:], np.float32)
        heat[y0:y1, x0:x1] = np.abs(stack[k] - median)[y0:y1, x0:x1]
        tiles = [(ty, tx) for ty in range(y0, y1 - TILE + 1, 8) for tx in range(x0, x1 - TILE + 1, 8)]
        tile_scores = np.array([heat[ty:ty + TILE, tx:tx + TILE].mean() for ty, tx in tiles],
                               np.float32)
        best = tiles[int(tile_scores.argmax())]
        raw.append((k, float(tile_scores.max()), best, heat, tile_scores))
    if threshold is None:
        threshold = 2.0 * float(np.median([r[1] for r in raw]))
    results = [SliceResult(index=k, score=s, relative=s / threshold,
                           tile_box=(by, bx, by + TILE, bx + TILE), boxes=[PART_BOX],
                           heatmap=heat, tile_scores=ts, stage="fast")
               for k, s, (by, bx), heat, ts in raw]
    return results, threshold


def scored_workspace(workspace, volume, flag=DEFECT_SLICES, accept=(0, 1)) -> tuple[int, int]:
    """Record a model, a finished run of ``compute_results`` and decisions; return (volume_id, run_id)."""
    results, threshold = compute_results(volume)
    volume_id = workspace.add_volume(volume)
    model_id = workspace.add_model(Path("numpy-median-model"),
                                   {"name": "median-deviation", "threshold": threshold,
                                    "tile_size": TILE, "profile": "whole-part"})
    run_id = workspace.start_run(volume_id, model_id, "fast", {"top_k": 5}, "cpu")
    workspace.add_results(run_id, results)
    workspace.finish_run(run_id, {"threshold": threshold, "seconds": 0.5,
                                  "n_slices": len(results)})
    for k in flag:
        workspace.decide(volume_id, k, "flag", note=f"void in slice {k}", reviewer="alice")
    for k in accept:
        workspace.decide(volume_id, k, "accept", reviewer="bob")
    return volume_id, run_id
