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


def score_batch(volume: Any, roi: Any, model: Any, cfg: Settings, ks: list[int], mode: str,
                refining: bool, state: dict, should_stop: Any) -> tuple[Any, list[int]]:
    """Score the tiles of slices ``ks``; return ``(TileScores, tiles per slice)``.

    When ``refining``, the search starts from the latents the first pass
    found (``state["first"][k][1]``).
    """
    tiles, counts = tiles_of(volume, roi, ks, model.tile_size)
    z0 = np.concatenate([state["first"][k][1] for k in ks]) if refining else None
    steps = 0 if mode == "fast" else cfg.steps
    scored = model.score_tiles(tiles, mode, steps=steps, lam=cfg.lam, z0=z0, seed=cfg.seed,
                               batch_size=max(cfg.batch_size, len(tiles)), should_stop=should_stop)
    return scored, counts
