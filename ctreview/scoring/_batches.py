"""Shared steps of the scoring passes: slice batches, tile cutting, one network batch."""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ctreview.io import VolumeLike
from ctreview.model.anomaly import AnomalyModel, TileScores
from ctreview.progress import StopFlag
from ctreview.roi import RoiResult
from ctreview.roi.tiles import cut_tiles
from ctreview.scoring._state import _ScoringState
from ctreview.scoring.settings import ScoringSettings


def slice_batches(roi: RoiResult, batch_size: int, only: list[int] | None = None) -> Iterator[list[int]]:
    """Group slice indices so each group holds about ``batch_size`` tiles."""
    group: list[int] = []
    count = 0
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


def tiles_of(volume: VolumeLike, roi: RoiResult, ks: list[int], tile_size: int) -> tuple[np.ndarray, list[int]]:
    """Cut the ROI tiles of slices ``ks``; return tiles ``(n, T, T)`` and the count per slice."""
    parts, counts = [], []
    for k in ks:
        parts.append(cut_tiles(volume.slice(k), roi.slices[k].tiles, tile_size))
        counts.append(len(roi.slices[k].tiles))
    return np.concatenate(parts), counts


def score_batch(volume: VolumeLike, roi: RoiResult, model: AnomalyModel, cfg: ScoringSettings,
                ks: list[int], mode: str, refining: bool, state: _ScoringState,
                should_stop: StopFlag | None) -> tuple[TileScores, list[int]]:
    """Score the tiles of slices ``ks``; return ``(TileScores, tiles per slice)``.

    When ``refining``, the search starts from the latents the first pass found.
    """
    tiles, counts = tiles_of(volume, roi, ks, model.tile_size)
    z0 = np.concatenate([state.first[k][1] for k in ks]) if refining else None
    steps = 0 if mode == "fast" else cfg.search_steps
    scored = model.score_tiles(tiles, mode, steps=steps, lam=cfg.lam, z0=z0, seed=cfg.seed,
                               batch_size=max(cfg.batch_size, len(tiles)), should_stop=should_stop)
    return scored, counts
