"""Calibrate a trained model on held-out normal slices.

For each scoring family (``fast``: z = E(x); ``search``: latent search
from E(x), used by ``hybrid`` refinement and ``anogan``):

1. per-pixel mean and spread of the smoothed shift-tolerant residual over
   normal tiles (a sample of the training tiles: what normal tiles show at
   each place of a tile; the held-out tiles alone are too few for stable
   per-pixel statistics);
2. slice scores (max over a slice's tiles) of the held-out slices, and the
   threshold that only a fraction ``fpr`` of normal slices exceed.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ctreview.model.anogan.anomaly import SHIFT, SIGMA, AnomalyModel
from ctreview.model.anogan.search import smooth
from ctreview.scoring.settings import ScoringSettings

MAX_SEARCH_TILES = 192
MAX_STAT_TILES = {"fast": 1024, "search": 128}


def split_groups(groups: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Return a bool mask ``(n,)`` of tiles whose slice group is held out (at least one group)."""
    ids = np.unique(groups)
    rng = np.random.default_rng(seed)
    count = max(1, int(round(len(ids) * fraction))) if len(ids) > 1 else 0
    held = rng.choice(ids, size=count, replace=False) if count else np.zeros(0, ids.dtype)
    return np.isin(groups, held)


def _pixel_stats(raw: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-pixel mean and floored, smoothed standard deviation of maps ``(n, T, T)``."""
    mu = smooth(raw.mean(0, keepdim=True), 2.0)[0]
    sd = raw.std(0, keepdim=True, unbiased=False) if raw.shape[0] > 1 else torch.ones_like(raw[:1]) * raw.std()
    sd = smooth(sd, 2.0)[0]
    floor = max(float(sd.median()) * 0.25, 1e-4)
    return mu, sd.clamp(min=floor)


def _slice_max(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    order = np.argsort(groups, kind="stable")
    g = groups[order]
    starts = np.r_[0, np.flatnonzero(np.diff(g)) + 1]
    return np.maximum.reduceat(values[order], starts)


def _threshold(slice_scores: np.ndarray, fpr: float) -> float:
    return float(np.quantile(slice_scores, 1.0 - fpr, method="higher")) if len(slice_scores) else 1.0


def _steps(mode: str) -> int:
    return ScoringSettings(mode=mode).search_steps


def _local_maps(model: AnomalyModel, tiles: np.ndarray, mode: str, lam: float, seed: int, should_stop):
    result = model.score_tiles(tiles, mode=mode, steps=_steps(mode), lam=lam, seed=seed,
                               should_stop=should_stop)
    return result, model.raw_maps(result.extra["local"])


def calibrate_family(model: AnomalyModel, tiles: np.ndarray, groups: np.ndarray, family: str, *,
                     fpr: float, seed: int, lam: float = ScoringSettings.lam, stat_tiles: np.ndarray | None = None,
                     should_stop: Callable[[], bool] | None = None) -> dict:
    """Calibrate one scoring family in place (``model.stats``); return its summary dict.

    ``stat_tiles`` (default: ``tiles``) give the per-pixel statistics;
    ``tiles`` grouped by slice ``groups`` give the threshold.
    """
    mode = "fast" if family == "fast" else "hybrid"
    if family == "search" and len(tiles) > MAX_SEARCH_TILES:
        keep = _whole_groups(groups, MAX_SEARCH_TILES, seed)
        tiles, groups = tiles[keep], groups[keep]
    stat_tiles = tiles if stat_tiles is None else stat_tiles
    limit = MAX_STAT_TILES[family]
    if len(stat_tiles) > limit:
        stat_tiles = stat_tiles[np.random.default_rng(seed).choice(len(stat_tiles), limit, replace=False)]
    model.stats[family] = (model.stats[family][0] * 0, model.stats[family][1] * 0 + 1)
    _, stat_maps = _local_maps(model, stat_tiles, mode, lam, seed, should_stop)
    model.stats[family] = _pixel_stats(stat_maps)
    result = model.score_tiles(tiles, mode=mode, steps=_steps(mode), lam=lam, seed=seed,
                               should_stop=should_stop)
    slice_scores = _slice_max(result.scores, groups)
    slice_paper = _slice_max(result.paper, groups)
    return {
        "threshold": _threshold(slice_scores, fpr),
        "paper_threshold": _threshold(slice_paper, fpr),
        "fpr": fpr, "steps": _steps(mode), "lam": lam,
        "normal_tiles": int(len(tiles)), "normal_slices": int(len(slice_scores)),
        "stat_tiles": int(len(stat_tiles)),
        "slice_score_quantiles": {q: float(np.quantile(slice_scores, float(q)))
                                  for q in ("0.5", "0.9", "0.99")} if len(slice_scores) else {},
    }


def _whole_groups(groups: np.ndarray, limit: int, seed: int) -> np.ndarray:
    """Pick whole slice groups, in random order, until about ``limit`` tiles."""
    rng = np.random.default_rng(seed)
    ids = rng.permutation(np.unique(groups))
    counts = np.array([np.count_nonzero(groups == i) for i in ids])
    chosen = ids[: max(2, int(np.searchsorted(np.cumsum(counts), limit)))]
    return np.isin(groups, chosen)


def calibrate(model: AnomalyModel, tiles: np.ndarray, groups: np.ndarray, *, fpr: float = 0.01,
              seed: int = 0, stat_tiles: np.ndarray | None = None,
              should_stop: Callable[[], bool] | None = None) -> dict:
    """Calibrate both families; return the ``calibration`` block of ``model.json``."""
    model.freeze()
    # the statistics below are computed with the current residual settings, whatever
    # the model was calibrated with before
    model.meta.setdefault("calibration", {}).update(sigma=SIGMA, shift=SHIFT)
    out = {"fpr": fpr, "sigma": SIGMA, "shift": SHIFT,
           "statistic": "max of per-pixel z-score of the smoothed shift-tolerant residual"}
    for family in ("fast", "search"):
        out[family] = calibrate_family(model, tiles, groups, family, fpr=fpr, seed=seed,
                                       stat_tiles=stat_tiles, should_stop=should_stop)
    return out
