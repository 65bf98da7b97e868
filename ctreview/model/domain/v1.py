"""Checks against a version-1 domain fingerprint (models trained before the calibrated one).

Version 1 stored grey-value quantiles of the model's tiles and footprint
sizes in pixels, each as median/min/max over the training volumes, and
judged a volume by fixed tolerances. The tiles-per-slice count (which flips
with a few pixels of part size) is no longer held against a volume; the
rest is judged as before, so old models keep their behaviour.
"""
from __future__ import annotations

from typing import Any

import numpy as np

INTENSITY_TOL = 0.15
"""A quantile further than this share of the training span (q99 - q1) outside the training range flags."""
SIZE_TOL = 1.5
"""A footprint measure more than this factor outside the training range flags."""

_FOOT_TEXT = {"area_px": "cross-section", "footprint_px": "footprint"}


def _outside(value: float, lo: float, hi: float) -> float:
    """The factor by which a positive ``value`` lies outside ``[lo, hi]`` (1.0 inside)."""
    value, lo, hi = max(value, 1e-9), max(lo, 1e-9), max(hi, 1e-9)
    return max(lo / value, value / hi, 1.0)


def intensity_check(model: dict, quantiles: list[float]) -> tuple[dict[str, Any], float, str]:
    """Tile grey-value quantiles against the training range, in shares of the training span."""
    med, lo, hi = (np.asarray(model[k], float) for k in ("median", "min", "max"))
    span = max(float(med[-1] - med[0]), 1e-9)
    v = np.asarray(quantiles, float)
    excess = float(np.max(np.maximum(np.maximum(lo - v, v - hi), 0.0)) / span)
    check = {"value": round(excess, 4), "limit": INTENSITY_TOL, "ok": excess <= INTENSITY_TOL,
             "volume_range": [round(float(v[0]), 4), round(float(v[-1]), 4)],
             "model_range": [round(float(med[0]), 4), round(float(med[-1]), 4)]}
    text = f"grey values {v[0]:.5g}-{v[-1]:.5g} unlike its training data ({med[0]:.5g}-{med[-1]:.5g})"
    return check, excess / INTENSITY_TOL, text


def footprint_checks(model: dict, foot: dict) -> tuple[dict[str, Any], float, list[str]]:
    """Cross-section and footprint areas against the training range, as factors."""
    checks, worst, texts = {}, 0.0, []
    for key, name in _FOOT_TEXT.items():
        if key not in model or key not in foot:
            continue
        factor = _outside(float(foot[key]), float(model[key]["min"]), float(model[key]["max"]))
        ok = factor <= SIZE_TOL
        checks[key] = {"value": round(float(foot[key]), 2), "model_range": [model[key]["min"], model[key]["max"]],
                       "factor": round(factor, 3), "limit": SIZE_TOL, "ok": ok}
        worst = max(worst, float(np.log(factor) / np.log(SIZE_TOL)))
        if not ok:
            bigger = float(foot[key]) > float(model[key]["max"])
            texts.append(f"the part's {name} is {factor:.1f}x {'larger' if bigger else 'smaller'} than "
                         "in its training data")
    return checks, worst, texts


def compare_v1(fingerprint: dict, features: dict) -> tuple[dict[str, Any], float, list[str]]:
    """``(checks, distance, problems)`` of a volume against a version-1 fingerprint (spacing aside)."""
    checks: dict[str, Any] = {}
    problems: list[str] = []
    distance = 0.0
    if fingerprint.get("intensity") and features.get("intensity"):
        check, d, text = intensity_check(fingerprint["intensity"], features["intensity"])
        checks["intensity"], distance = check, max(distance, d)
        problems += [] if check["ok"] else [text]
    if fingerprint.get("footprint") and features.get("footprint"):
        foot, d, texts = footprint_checks(fingerprint["footprint"], features["footprint"])
        checks["footprint"], distance = foot, max(distance, d)
        problems += texts[:1]
    return checks, distance, problems
