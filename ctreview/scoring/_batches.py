"""Shared pieces of the scoring passes: the result type, settings, slice batches, tile cutting."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ctreview.results import SliceResult
from ctreview.roi.tiles import cut_tiles


@dataclass
class ScoredSlice(SliceResult):
    """A :class:`SliceResult` that also carries AnoGAN's summed (paper) score of its best tile."""

    paper: float = float("nan")
    paper_relative: float = float("nan")


@dataclass
class Settings:
    mode: str
    steps: int
    lam: float
    top_k: int
    refine_above: float | None
    batch_size: int
    seed: int


def slice_batches(roi: Any, batch_size: int, only: list[int] | None = None):
    """Group slice indices so each group holds about ``batch_size`` tiles."""
    group, count = [], 0
    for k, sroi in roi.slices.items():
        if only is not None and k not in only or not sroi.tiles:
            continue
        group.append(k)
        count += len(sroi.tiles)
        if count >= batch_size:
            yield group
            group, count = [], 0
    if group:
        yield group


def tiles_of(volume: Any, roi: Any, ks: list[int], tile_size: int) -> tuple[np.ndarray, list[int]]:
    parts, counts = [], []
    for k in ks:
        image = volume.slice(k) if hasattr(volume, "slice") else np.asarray(volume[k])
        parts.append(cut_tiles(image, roi.slices[k].tiles, tile_size))
        counts.append(len(roi.slices[k].tiles))
    return np.concatenate(parts), counts
