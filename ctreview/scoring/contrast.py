"""Compare each slice's residual with the same pixels a few slices away along z.

Electronic parts are prismatic over most of their height: a winding, a
core, a foil stack look alike a few slices up and down. Structure the
generator renders badly therefore leaves the same residual in the
neighbouring slices, while a defect, a few slices deep, does not. The
*z-contrast* of slice k is its residual map minus the per-pixel median of
the residual maps of the ROI slices ``gap``..``reach`` slices away (defaults in
:class:`~ctreview.scoring.settings.ScoringSettings`; a model scores with the
values it was calibrated with).

Measured on unseen phantoms (bench/explore_neighbour_contrast.py,
bench/results/model.md): slice AUROC 0.66 -> 0.79 (transformer) and
0.33 -> 0.64 (capacitor) over the per-tile-position z-score.
"""
from __future__ import annotations

import bisect

import numpy as np


def neighbours(k: int, roi_slices: list[int], gap: int, reach: int) -> list[int]:
    """Return the ROI slices ``j`` with ``gap <= |j - k| <= reach`` (``roi_slices`` ascending)."""
    lo = bisect.bisect_left(roi_slices, k - reach)
    hi = bisect.bisect_right(roi_slices, k + reach)
    return [j for j in roi_slices[lo:hi] if abs(j - k) >= gap]


def z_contrast(center: np.ndarray, others: list[np.ndarray], mask: np.ndarray) -> np.ndarray:
    """Residual ``(y, x)`` minus the per-pixel median of ``others``, clipped at 0, zero outside ``mask``.

    With no neighbours at all (a volume of a few slices) the residual is
    returned as it is.
    """
    out = center.astype(np.float32, copy=True)
    if others:
        out -= np.median(np.stack(others), axis=0).astype(np.float32)
    np.maximum(out, 0.0, out=out)
    out[~mask] = 0.0
    return out


class ContrastWindow:
    """Residual maps of the slices around the ones waiting for their z-contrast.

    Slices arrive in ascending order. A slice is *ready* once every ROI
    slice up to ``reach`` above it has arrived (or :meth:`ready` is called
    with ``final=True``); maps no pending slice needs any more are dropped,
    so at most ``2 * reach + batch`` slice maps are held whatever the volume.

    Parameters
    ----------
    roi_slices : list of int
        Every slice index that will arrive, ascending.
    """

    def __init__(self, roi_slices: list[int], gap: int, reach: int) -> None:
        self.roi_slices = list(roi_slices)
        self.gap, self.reach = gap, reach
        self.maps: dict[int, np.ndarray] = {}
        self.pending: list[int] = []

    def add(self, k: int, residual: np.ndarray) -> None:
        """Add slice ``k``'s residual map ``(y, x)``."""
        self.maps[k] = residual
        self.pending.append(k)

    def ready(self, final: bool = False) -> list[int]:
        """Return (and stop tracking), in order, the pending slices whose neighbours have all arrived."""
        last = max(self.maps, default=-1)  # slices arrive in ascending order
        done = []
        for k in self.pending:  # in order: a slice never overtakes an earlier one
            if not final and max(neighbours(k, self.roi_slices, self.gap, self.reach), default=k) > last:
                break
            done.append(k)
        self.pending = self.pending[len(done):]
        return done

    def contrast(self, k: int, mask: np.ndarray) -> np.ndarray:
        """z-contrast of slice ``k`` against the neighbours that have arrived."""
        near = [self.maps[j] for j in neighbours(k, self.roi_slices, self.gap, self.reach) if j in self.maps]
        return z_contrast(self.maps[k], near, mask)

    def forget(self) -> None:
        """Drop maps that no pending or future slice needs."""
        oldest = min(self.pending, default=max(self.maps, default=0) + 1)
        for j in [j for j in self.maps if j < oldest - self.reach]:
            del self.maps[j]
