"""Version-2 domain fingerprints: the calibrated grey-level and size statistics, and the checks of a
volume against them (see :mod:`ctreview.model.domain`)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ctreview.model.domain import stats
from ctreview.model.domain.measure import PERCENTILES, quantiles_of

SIZE_KEYS = ("area_px", "footprint_px", "height_px")
INTENSITY_TOLERANCE = (0.08, 0.12)
"""Least and largest tolerance of a share of ROI pixels below a grey level beyond the normal range. The
floor: six normal volumes can happen to span half the range of their part's population (defect-free twins
lay up to 0.06 beyond it, bench/bench_domain_twins.py); the cap: another part lies 0.25-0.3 beyond, a
grey scale 0.6x or shifted by 5 % of the window 0.2."""
SIZE_TOLERANCE = (float(np.log(1.2)), float(np.log(1.5)))
"""Least and largest tolerance of a part size beyond the normal range (log: 20 % and 50 %; a part of
2/3 the size, or 1.5x, beyond the normal range always flags)."""
LEVELS = 9
"""Grey levels, evenly inside the training window, at which the share of ROI pixels below is compared."""


def spread(values: list[list[float]] | list[float]) -> dict[str, Any]:
    arr = np.asarray(values, float)
    return {"median": np.median(arr, axis=0).tolist(), "min": arr.min(axis=0).tolist(),
            "max": arr.max(axis=0).tolist()}


def below(pct: Sequence[float], levels: Sequence[float]) -> list[float]:
    """The share of pixels below each grey level, from their :data:`PERCENTILES`."""
    return [float(v) for v in np.interp(levels, pct, PERCENTILES)]


def intensity_block(fit: list[list[float]], held: list[list[float]], source: str,
                    window: Sequence[float] | None) -> dict[str, Any]:
    """The grey-value statistics: the share of pixels below :data:`LEVELS` grey levels of the window.

    Shares rather than quantiles: a quantile that falls between two
    materials jumps far with a small change of their proportions; the share
    below a grey level moves only by that change.
    """
    everything = np.asarray(fit + held, float)
    lo, hi = (float(window[0]), float(window[1])) if window else (float(np.median(everything[:, 1])),
                                                                   float(np.median(everything[:, -2])))
    hi = hi if hi > lo else lo + max(abs(lo), 1.0)
    levels = [lo + (hi - lo) * (k + 1) / (LEVELS + 1) for k in range(LEVELS)]
    floor, cap = INTENSITY_TOLERANCE
    return {"of": source, "window": [lo, hi], "levels": levels,
            "grey": spread([quantiles_of(row) for row in everything.tolist()]),
            **stats.calibrate([below(r, levels) for r in fit], [below(r, levels) for r in held],
                              floor=floor, cap=cap)}


def size_block(fit: list[dict], held: list[dict]) -> dict[str, Any] | None:
    """The part's sizes (log px) that every normal volume has (independent images have no height)."""
    keys = [k for k in SIZE_KEYS if fit + held and all(f.get(k, 0) > 0 for f in fit + held)]
    if not keys:
        return None

    def logs(feet: list[dict]) -> list[list[float]]:
        return [[float(np.log(f[k])) for k in keys] for f in feet]

    fit_logs, held_logs = (logs(fit), logs(held)) if fit else (logs(held), [])
    floor, cap = SIZE_TOLERANCE
    return {"keys": keys, **stats.calibrate(fit_logs, held_logs, floor=floor, cap=cap)}


def intensity_check(block: dict, features: dict) -> tuple[dict[str, Any], float, str] | None:
    pct = features.get("tile_percentiles" if block.get("of") == "tiles" else "roi_percentiles")
    if not pct:
        return None
    d = stats.distances(block, below(pct, block["levels"]))
    worst = float(d.max())
    grey, med = quantiles_of(pct), block["grey"]["median"]
    lo, hi = block["window"]
    check = {"value": round(worst, 3), "limit": 1.0, "ok": worst <= 1.0,
             "level": round((block["levels"][int(d.argmax())] - lo) / (hi - lo), 3),
             "volume_range": [round(float(grey[0]), 4), round(float(grey[-1]), 4)],
             "model_range": [round(float(med[0]), 4), round(float(med[-1]), 4)]}
    where = "inside the part" if block.get("of") != "tiles" else "of its tiles"
    text = (f"grey values {where} {grey[0]:.5g}-{grey[-1]:.5g} unlike its training data "
            f"({med[0]:.5g}-{med[-1]:.5g})")
    return check, worst, text


_SIZE_TEXT = {"area_px": "cross-section", "footprint_px": "footprint", "height_px": "height"}


def size_checks(block: dict, foot: dict) -> tuple[dict[str, Any], float, list[str]]:
    checks, worst, texts = {}, 0.0, []
    for j, key in enumerate(block["keys"]):
        value = float(foot.get(key, 0.0))
        if value <= 0:
            continue
        d = float(stats.distances({k: [block[k][j]] for k in ("min", "max", "tolerance")}, [np.log(value)])[0])
        lo, hi = float(np.exp(block["min"][j])), float(np.exp(block["max"][j]))
        factor = max(lo / value, value / hi, 1.0)
        checks[key] = {"value": round(value, 2), "model_range": [round(lo, 2), round(hi, 2)],
                       "factor": round(factor, 3), "distance": round(d, 3), "limit": 1.0, "ok": d <= 1.0}
        worst = max(worst, d)
        if d > 1.0:
            texts.append(f"the part's {_SIZE_TEXT[key]} is {factor:.1f}x "
                         f"{'larger' if value > hi else 'smaller'} than in its training data")
    return checks, worst, texts


def compare_v2(fingerprint: dict, features: dict) -> tuple[dict[str, Any], float, list[str]]:
    checks: dict[str, Any] = {}
    problems: list[str] = []
    distance = 0.0
    got = intensity_check(fingerprint["intensity"], features) if fingerprint.get("intensity") else None
    if got is not None:
        checks["intensity"], d, text = got
        distance = max(distance, d)
        problems += [] if checks["intensity"]["ok"] else [text]
    if fingerprint.get("size") and features.get("footprint"):
        checks["footprint"], d, texts = size_checks(fingerprint["size"], features["footprint"])
        distance = max(distance, d)
        problems += texts[:1]
    return checks, distance, problems
