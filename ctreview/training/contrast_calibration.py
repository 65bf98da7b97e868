"""Calibrate the z-contrast statistic on whole normal volumes.

The z-contrast of a slice needs its neighbours along z, so unlike the
per-tile statistic (:mod:`ctreview.training.calibrate`) it cannot be calibrated
on loose held-out tiles: the normal volumes are scored here by the one
scoring pass, the model wrapped as it is scored
(:func:`~ctreview.model.format1.format1_detector`), and the threshold is set
so that a fraction ``fpr`` of all normal ROI slices exceed it.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ctreview.io import VolumeLike
from ctreview.model.anogan.anomaly import AnomalyModel
from ctreview.progress import StopFlag
from ctreview.scoring.settings import ScoringSettings

GAP, REACH = 3, 6
"""A slice is compared with the ROI slices ``GAP`` to ``REACH`` away along z (stored in the calibration,
which is what scoring reads)."""


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
        Scoring as calibrated (mode ``fast``: the encoder alone, the depth a
        format-1 model scores with unless a run asks for more).

    Returns
    -------
    dict
        ``{"gap", "reach", "fpr", "volumes", "slices", "fast": {"threshold", ...},
        "search": {"threshold", ...}}``: one pass scores every depth, so ``search`` is ``fast``'s.
    """
    from ctreview.model.anogan.format1 import format1_detector
    from ctreview.roi import extract_roi
    from ctreview.scoring.stream import score_volume

    cfg = (settings or ScoringSettings()).changed(mode="fast")
    block: dict[str, Any] = {"gap": GAP, "reach": REACH, "fpr": fpr, "fast": {"threshold": 1.0},
                             "search": {"threshold": 1.0}}
    model.meta.setdefault("calibration", {})["contrast"] = block  # unit thresholds: raw scores out
    detector = format1_detector(model)
    fast: list[float] = []
    for item in volumes:
        volume, listed = item if isinstance(item, tuple) else (item, None)
        normal = None if listed is None else set(listed)
        roi = extract_roi(volume, profile, tile_size=model.tile_size)
        scores = {r.index: r.score for r in score_volume(volume, detector, cfg, roi=roi, should_stop=should_stop)}
        fast.extend(v for k, v in scores.items() if normal is None or k in normal)
    if not fast:
        del model.meta["calibration"]["contrast"]
        return {}
    # The threshold lets through ceil(fpr * n) of the n normal slices.
    allowed = max(1, math.ceil(fpr * len(fast)))
    block.update(volumes=len(volumes), slices=len(fast))
    block["fast"] = _family(fast, allowed)
    block["search"] = dict(block["fast"])
    return block


def _family(scores: list[float], allowed: int) -> dict:
    ranked = sorted(scores, reverse=True)
    threshold = ranked[min(allowed, len(ranked)) - 1]
    return {"threshold": float(threshold) if threshold > 0 else 1.0,
            "slice_score_quantiles": {q: float(np.quantile(scores, float(q))) for q in ("0.5", "0.9", "0.99")}}
