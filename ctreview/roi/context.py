"""Context slices along z: which slices stand beside slice k, and a small cache to read them.

Electronic parts are prismatic over most of their height, so the same
place a few slices away shows what a slice should look like; a defect, a
few slices deep, shows only in some of them. Training (tile stacks) and
scoring (slice crops) pick context slices by the same rule.

Slices beyond the ends of the part are replaced by the nearest slice of the
ROI. Zeros (or the air outside the part) would look to a detector exactly
like missing material; the nearest ROI slice looks like the part and at
worst hides a change that is truly there, the safe way round.
"""
from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any

import numpy as np

from ctreview.io import as_volume

OFFSETS = (-6, -3, 3, 6)
"""Default context offsets along z (slices)."""


def nearest_slice(j: int, roi_slices: Sequence[int]) -> int:
    """Return the ROI slice nearest to ``j`` (``roi_slices`` ascending, not empty); ties go down."""
    pos = bisect.bisect_left(roi_slices, j)
    if pos < len(roi_slices) and roi_slices[pos] == j:
        return int(j)
    if pos == 0:
        return int(roi_slices[0])
    if pos == len(roi_slices):
        return int(roi_slices[-1])
    below, above = roi_slices[pos - 1], roi_slices[pos]
    return int(below) if j - below <= above - j else int(above)


def context_indices(k: int, roi_slices: Sequence[int], offsets: Sequence[int] = OFFSETS) -> list[int]:
    """Return the slices of the stack of slice ``k``: ``[k, k + o for o in offsets]``, padded.

    Parameters
    ----------
    k : int
        Centre slice (need not be a ROI slice itself).
    roi_slices : sequence of int
        Slices with a ROI, ascending, not empty.
    offsets : sequence of int
        Context offsets along z.

    Returns
    -------
    list of int, length ``1 + len(offsets)``
        A context slice outside ``roi_slices`` is replaced by the nearest ROI slice.
    """
    if not roi_slices:
        raise ValueError("context needs at least one ROI slice")
    roi_slices = list(roi_slices)
    return [int(k)] + [nearest_slice(k + int(o), roi_slices) for o in offsets]


class SliceReader:
    """Read slices of a Volume or a ``(z, y, x)`` array as float32, caching the last few.

    Consecutive centre slices share most of their context slices; the cache
    keeps each read once.
    """

    def __init__(self, volume: Any, cache: int = 16) -> None:
        self.volume = as_volume(volume)
        self.cache = int(cache)
        self._store: dict[int, np.ndarray] = {}

    def __call__(self, k: int) -> np.ndarray:
        k = int(k)
        if k not in self._store:
            if len(self._store) >= self.cache:
                self._store.pop(next(iter(self._store)))
            self._store[k] = np.asarray(self.volume.slice(k), np.float32)
        return self._store[k]
