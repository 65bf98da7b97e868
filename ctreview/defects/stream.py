"""Defects of a run while it streams: provisional until scoring has passed every slice.

:class:`DefectTracker` takes slice heatmaps in any order (a later one for a
slice replaces it) and keeps only their voxels at or above the grow level,
sparse, within a byte budget. :meth:`DefectTracker.defects` labels what it
holds: the objects so far (a window calls it per batch, in a worker);
at the end of a run the same call gives the final list.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ctreview.defects._parts import Parts, to_defects
from ctreview.defects.objects import Defect
from ctreview.defects.settings import DefectSettings
from ctreview.defects.sources import SliceStack

TRACKER_BYTES = 16 * 2**20
"""Default budget of the voxels a tracker keeps (8 bytes each; labelling them takes ~10x that)."""

# the 13 neighbours of a voxel that come after it in (z, y, x) order: with the other
# 13 they make 26-connectivity, and every touching pair is found once
_FORWARD = [(dz, dy, dx) for dz in (0, 1) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
            if (dz, dy, dx) > (0, 0, 0)]


class DefectTracker:
    """Collect slice heatmaps of a run; label their defects on demand.

    Parameters
    ----------
    shape : (z, y, x)
        The volume's shape.
    spacing, origin : (z, y, x) in mm
    settings : DefectSettings, optional
    budget_bytes : int
        Once the kept voxels would pass this, the tracker stops keeping them
        and :attr:`overflow` is True (label the run's heatmap file instead).
    """

    def __init__(self, shape: Sequence[int], spacing: Sequence[float] = (1.0, 1.0, 1.0),
                 settings: DefectSettings | None = None, *, origin: Sequence[float] = (0.0, 0.0, 0.0),
                 budget_bytes: int = TRACKER_BYTES) -> None:
        nz, ny, nx = (int(s) for s in shape)
        self.shape = (nz, ny, nx)
        self.spacing, self.origin = tuple(spacing), tuple(origin)
        self.settings = settings or DefectSettings()
        self.budget = int(budget_bytes)
        self.overflow = False
        self._rows: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # slice -> (flat y*nx+x int32, value float32)
        self._bytes = 0

    @property
    def slices(self) -> list[int]:
        """The slices seen so far."""
        return sorted(self._rows)

    def add(self, index: int, heatmap: np.ndarray | None) -> None:
        """Keep the voxels of slice ``index``'s ``(y, x)`` heatmap at or above the grow level."""
        if self.overflow or heatmap is None:
            return
        heat = np.asarray(heatmap, np.float32)
        if heat.shape != self.shape[1:]:
            return
        flat = np.flatnonzero(heat.ravel() >= self.settings.grow).astype(np.int32)
        old = self._rows.pop(int(index), None)
        if old is not None:
            self._bytes -= old[0].nbytes + old[1].nbytes
        if self._bytes + 8 * flat.size > self.budget:
            self.overflow = True
            self._rows.clear()
            self._bytes = 0
            return
        self._rows[int(index)] = (flat, heat.ravel()[flat])
        self._bytes += 8 * flat.size

    def defects(self) -> list[Defect]:
        """The defects of the slices seen so far, by rank ([] after an overflow)."""
        if self.overflow or not self._rows:
            return []
        nz, ny, nx = self.shape
        ks = sorted(self._rows)
        z = np.concatenate([np.full(self._rows[k][0].size, k, np.int64) for k in ks])
        flat = np.concatenate([self._rows[k][0] for k in ks]).astype(np.int64)
        value = np.concatenate([self._rows[k][1] for k in ks]).astype(np.float64)
        if z.size == 0:
            return []
        y, x = flat // nx, flat % nx
        root = _components(z, y, x, self.shape)
        objects = Parts.of_voxels(root, z, y, x, value, int(root.max()) + 1)
        return to_defects(objects, self.settings, self.spacing, self.origin)


def _components(z: np.ndarray, y: np.ndarray, x: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Object (0..m-1) of each voxel: 26-connected components of a sparse voxel set (sorted by key)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    nz, ny, nx = shape
    key = (z * ny + y) * nx + x  # sorted: slices ascending, flat indices ascending within a slice
    n = key.size
    rows, cols = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for dz, dy, dx in _FORWARD:
        zz, yy, xx = z + dz, y + dy, x + dx
        inside = (zz < nz) & (yy >= 0) & (yy < ny) & (xx >= 0) & (xx < nx)
        target = ((zz * ny + yy) * nx + xx)[inside]
        at = np.searchsorted(key, target)
        found = at < n
        found[found] = key[at[found]] == target[found]
        rows.append(np.flatnonzero(inside)[found])
        cols.append(at[found])
    a, b = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(a.size, np.int8), (a, b)), shape=(n, n))
    return np.asarray(connected_components(graph, directed=False)[1], np.int64)


class RunDefects:
    """The defects of a scoring run, found at its end with the least memory at hand.

    Parameters
    ----------
    shape, spacing, settings, origin
        As for :class:`DefectTracker`.
    heatmap : array-like (z, y, x), optional
        The run's whole heatmap (a run folder's memory-mapped ``heatmap.tif``):
        labelled slab by slab at the end; nothing is kept meanwhile.
    fallback : callable(int) -> ndarray (y, x) or None, optional
        Without ``heatmap``, a tracker keeps the streamed voxels above the
        grow level; past its budget the heatmaps are read back slice by slice
        from here (a workspace's heatmap cache).
    """

    def __init__(self, shape: Sequence[int], spacing: Sequence[float] = (1.0, 1.0, 1.0),
                 settings: DefectSettings | None = None, *, origin: Sequence[float] = (0.0, 0.0, 0.0),
                 heatmap: Any = None, fallback: Callable[[int], np.ndarray | None] | None = None) -> None:
        self.shape, self.spacing, self.origin = tuple(shape), tuple(spacing), tuple(origin)
        self.settings = settings or DefectSettings()
        self.heatmap, self.fallback = heatmap, fallback
        self.tracker = None if heatmap is not None else DefectTracker(shape, spacing, self.settings, origin=origin)

    def add(self, index: int, heatmap: np.ndarray | None) -> None:
        """Note one streamed slice result's ``(y, x)`` heatmap."""
        if self.tracker is not None:
            self.tracker.add(index, heatmap)

    def final(self) -> list[Defect]:
        """The run's defects, by rank."""
        from ctreview.defects.label import find_defects

        heat = self.heatmap
        if heat is None and self.tracker is not None and not self.tracker.overflow:
            return self.tracker.defects()
        if heat is None and self.fallback is not None:
            heat = SliceStack(self.fallback, self.shape)
        if heat is None:
            return []
        return find_defects(heat, self.spacing, self.settings, origin=self.origin)
