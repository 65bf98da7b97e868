"""The calibrated statistics of a version-2 domain fingerprint: ranges, spreads, tolerances.

Each statistic (a grey-value quantile in training-window widths, or the log
of a part size) keeps the range of the normal volumes, their spread, and a
tolerance: how far beyond the range a volume may lie. The tolerance comes
from the normal data themselves: their spread times the factor of a 99 %
prediction interval for one more volume (Student's t, so that a spread
measured on few volumes counts for little), and at least a margin over how
far held-out normal volumes lay beyond the range of the fitted ones (or each
volume beyond the others' range, when none was held out); it is kept
between a floor and a cap (another part, or another grey scale, must never
fit).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

COVERAGE = 0.99
"""One-sided coverage of the prediction interval whose width (in spreads) is the tolerance."""
HELD_MARGIN = 1.5
"""...and at least this many times the furthest a held-out normal volume lay beyond the fitted ones' range."""


def excess(values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """How far each value lies outside ``[lo, hi]`` (0 inside)."""
    return np.maximum(np.maximum(lo - values, values - hi), 0.0)


def spreads(n: int) -> float:
    """The tolerance in spreads (std) for ``n`` normal volumes: a prediction interval's factor (inf for n < 2)."""
    if n < 2:
        return float("inf")
    from scipy.stats import t

    return float(t.ppf(COVERAGE, n - 1) * np.sqrt(1.0 + 1.0 / n))


def _held_excess(fit: np.ndarray, held: np.ndarray) -> np.ndarray:
    """Per statistic, the furthest an unseen normal volume lay beyond the range of the others."""
    if len(held):
        return excess(held, fit.min(axis=0), fit.max(axis=0)).max(axis=0)
    if len(fit) < 2:
        return np.zeros(fit.shape[1])
    out = [excess(fit[i], np.delete(fit, i, 0).min(axis=0), np.delete(fit, i, 0).max(axis=0))
           for i in range(len(fit))]
    return np.max(out, axis=0)


def calibrate(fit: Sequence[Sequence[float]], held: Sequence[Sequence[float]], *, floor: float,
              cap: float) -> dict[str, Any]:
    """Range, spread and tolerance of statistics measured on normal volumes.

    Parameters
    ----------
    fit, held : array-like, shape (volumes, statistics)
        The statistics of the fitted and of the held-out normal volumes (``held`` may be empty).
    floor, cap : float
        Least and largest tolerance, in the statistics' units.

    Returns
    -------
    dict
        ``min``, ``max``, ``median``, ``spread``, ``held_excess``, ``tolerance``
        (lists, one value per statistic) and ``method``.
    """
    f = np.asarray(fit, float)
    h = np.asarray(held, float).reshape(-1, f.shape[1])
    both = np.concatenate([f, h])
    spread = both.std(axis=0, ddof=1) if len(both) >= 2 else np.zeros(f.shape[1])
    held_excess = _held_excess(f, h)
    # no spread known (one volume): nothing says how much normal data vary, so the widest tolerance
    wide = spreads(len(both)) * spread if len(both) >= 2 else np.full(f.shape[1], np.inf)
    tolerance = np.clip(np.maximum(wide, HELD_MARGIN * held_excess), floor, cap)
    method = "held-out volumes" if len(h) else ("leave-one-out" if len(f) >= 2 else "floor")
    return {"min": both.min(axis=0).tolist(), "max": both.max(axis=0).tolist(),
            "median": np.median(both, axis=0).tolist(), "spread": spread.tolist(),
            "held_excess": held_excess.tolist(), "tolerance": tolerance.tolist(), "method": method}


def distances(stats: dict[str, Any], values: Sequence[float]) -> np.ndarray:
    """Each value's distance beyond the range, in tolerances (above 1: outside)."""
    v = np.asarray(values, float)
    lo, hi, tol = (np.asarray(stats[k], float) for k in ("min", "max", "tolerance"))
    return excess(v, lo, hi) / np.maximum(tol, 1e-12)
