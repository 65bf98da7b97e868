"""Heatmaps kept slice by slice, seen as one (z, y, x) array that :func:`iter_defects` reads by slabs."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

SliceGetter = Callable[[int], "np.ndarray | None"]


class SliceStack:
    """A read-only (z, y, x) view of heatmaps stored per slice (a workspace's cache, say).

    Parameters
    ----------
    get : callable(int) -> ndarray (y, x) or None
        The heatmap of one slice; None (not scored) reads as zeros.
    shape : (z, y, x)

    Only ``stack[z0:z1]`` is supported; it returns a new float32 array.
    """

    def __init__(self, get: SliceGetter, shape: Sequence[int]) -> None:
        self._get = get
        nz, ny, nx = (int(s) for s in shape)
        self.shape = (nz, ny, nx)

    def __getitem__(self, key: slice) -> np.ndarray:
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("a SliceStack is read by z ranges: stack[z0:z1]")
        z0, z1, _ = key.indices(self.shape[0])
        out = np.zeros((max(0, z1 - z0), *self.shape[1:]), np.float32)
        for k in range(z0, z1):
            heat = self._get(k)
            if heat is not None and heat.shape == self.shape[1:]:
                out[k - z0] = heat
        return out
