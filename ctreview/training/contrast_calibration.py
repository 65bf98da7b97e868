"""Calibrate the z-contrast statistic on whole normal volumes.

The z-contrast of a slice needs its neighbours along z, so unlike the
per-tile statistic (:mod:`ctreview.model.calibrate`) it cannot be calibrated
on loose held-out tiles: the normal volumes are scored here exactly as
``hybrid`` scores a volume, and each family's threshold is set so that a
fraction ``fpr`` of all normal ROI slices exceed it.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ctreview.io import VolumeLike
from ctreview.model.anomaly import AnomalyModel
from ctreview.progress import StopFlag
from ctreview.scoring.settings import ScoringSettings


def calibrate_contrast(model: AnomalyModel,
                       volumes: Sequence[VolumeLike | tuple[VolumeLike, Sequence[int] | None]],
                       profile: Any, *, fpr: float = 0.01, settings: ScoringSettings | None = None,
                       should_stop: StopFlag | None = None) -> dict:
    """Score normal ``volumes`` and store the ``contrast`` calibration in ``model.meta``; return it.

    Parameters
    ----------
    model : AnomalyModel
        A trained model; its ``meta["calibration"]`` gains a ``"contrast"`` block.
    volumes : sequence of Volume, or of (Volume, list of int or None)
        Normal volumes (the training volumes); with a slice list, only those
        slices count as normal (the accepted slices of a reviewed volume),
        the others serve as neighbours only.
    profile : str or Profile
        ROI profile used to cut them.
    fpr : float
        Fraction of normal slices allowed above the threshold.
    settings : ScoringSettings, optional
        Scoring as calibrated: ``hybrid`` with its ``top_k`` slices per volume
        refined for the ``search`` threshold (as ``hybrid`` refines the top
        slices of a scan), ``gap`` and ``reach`` of the z-contrast, ``seed``.

    Returns
    -------
    dict
        ``{"gap", "reach", "fpr", "volumes", "slices", "fast": {"threshold", ...},
        "search": {"threshold", ...}}``.
    """
    from ctreview.roi import extract_roi
    from ctreview.scoring.stream import score_volume

    cfg = (settings or ScoringSettings()).changed(mode="hybrid")
    block = {"gap": cfg.gap, "reach": cfg.reach, "fpr": fpr,
             "fast": {"threshold": 1.0}, "search": {"threshold": 1.0}}
    model.meta.setdefault("calibration", {})["contrast"] = block  # unit thresholds: raw scores out
    fast: list[float] = []
    search: list[float] = []
    for item in volumes:
        volume, listed = item if isinstance(item, tuple) else (item, None)
        normal = None if listed is None else set(listed)
        roi = extract_roi(volume, profile, tile_size=model.tile_size)
        scores: dict[int, float] = {}
        for result in score_volume(volume, model, cfg, roi=roi, should_stop=should_stop):
            if normal is not None and result.index not in normal:
                continue
            if result.stage == "refined":
                search.append(result.score)
            else:
                scores[result.index] = result.score
        fast.extend(scores.values())
    if not fast:
        del model.meta["calibration"]["contrast"]
        return {}
    # The threshold lets through ceil(fpr * n) of the n normal slices. Refinement only
    # touches each volume's top slices, which is where that tail lives.
    allowed = max(1, math.ceil(fpr * len(fast)))
    block.update(volumes=len(volumes), slices=len(fast), refined=len(search))
    block["fast"] = _family(fast, allowed)
    block["search"] = _family(search or fast, allowed)
    return block


def _family(scores: list[float], allowed: int) -> dict:
    ranked = sorted(scores, reverse=True)
    threshold = ranked[min(allowed, len(ranked)) - 1]
    return {"threshold": float(threshold) if threshold > 0 else 1.0,
            "slice_score_quantiles": {q: float(np.quantile(scores, float(q))) for q in ("0.5", "0.9", "0.99")}}
