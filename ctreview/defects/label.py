"""Heatmap -> defects: hysteresis labelling in 3D, slab by slab along z.

A defect is a 26-connected object of the voxels at or above
``DefectSettings.grow`` that holds a seed (a voxel at or above
``DefectSettings.seed``). The heatmap is read a slab of slices at a time and
labelled with :func:`scipy.ndimage.label`; the parts of an object in
neighbouring slabs are joined through the slab border (a connected-
components pass over the graph of touching parts, i.e. a union-find), so
memory stays bounded by one slab whatever the volume's size, and the objects
are the same as one pass over the whole volume would give.
"""
from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

import numpy as np

from ctreview.defects._parts import Parts, merge, to_defects
from ctreview.defects.objects import Defect
from ctreview.defects.settings import DefectSettings
from ctreview.progress import Progress, StopFlag, drain

SLAB_BYTES = 16 * 2**20
"""Float32 bytes of heatmap read at once (at least two slices). A slab's voxels above the grow level take
about 50 bytes each to label and measure (coordinates, labels, sort orders), so 16 MB of heatmap can cost
200 MB where a whole slab is hot (the cell scan's top quarter): 64 MB of slab took the run to 1.6 GB."""

_STRUCTURE = np.ones((3, 3, 3), bool)  # 26-connectivity


def slab_slices(shape: Sequence[int], budget: int = SLAB_BYTES) -> int:
    """Slices per slab for a heatmap of ``shape`` (z, y, x) within ``budget`` bytes of float32."""
    return max(2, int(budget // max(1, 4 * int(shape[1]) * int(shape[2]))))


def find_defects(heat: Any, spacing: Sequence[float] = (1.0, 1.0, 1.0), settings: DefectSettings | None = None,
                 *, origin: Sequence[float] = (0.0, 0.0, 0.0), slab: int | None = None) -> list[Defect]:
    """Return the defects of a relative heatmap, worst (highest peak) first; see :func:`iter_defects`."""
    return drain(iter_defects(heat, spacing, settings, origin=origin, slab=slab))


def iter_defects(heat: Any, spacing: Sequence[float] = (1.0, 1.0, 1.0), settings: DefectSettings | None = None,
                 *, origin: Sequence[float] = (0.0, 0.0, 0.0), slab: int | None = None,
                 should_stop: StopFlag | None = None) -> Generator[Progress, None, list[Defect]]:
    """Label the defects of a heatmap slab by slab.

    Parameters
    ----------
    heat : array-like, shape (z, y, x)
        Relative score per voxel (1.0 = the calibrated threshold): an
        ndarray, a memory-mapped ``heatmap.tif``, or anything with ``shape``
        whose ``heat[z0:z1]`` gives slices ``(z, y, x)`` (see
        :class:`~ctreview.defects.SliceStack`). NaN counts as 0.
    spacing, origin : (z, y, x) in mm
        For the positions and sizes in mm.
    settings : DefectSettings, optional
    slab : int, optional
        Slices read at once (default: :func:`slab_slices`).
    should_stop : callable, optional
        Polled between slabs; raises :class:`~ctreview.errors.Cancelled`.

    Yields
    ------
    Progress
        Stage ``"defects"``, one per slab.

    Returns
    -------
    list of Defect
        By rank.
    """
    from scipy import ndimage

    from ctreview.errors import Cancelled

    cfg = settings or DefectSettings()
    nz, ny, nx = (int(s) for s in heat.shape)
    step = max(1, int(slab or slab_slices(heat.shape)))
    pieces: list[Parts] = []
    links: list[np.ndarray] = []
    base, border = 0, None
    for z0 in range(0, nz, step):
        if should_stop is not None and should_stop():
            raise Cancelled()
        z1 = min(z0 + step, nz)
        block = np.asarray(heat[z0:z1], dtype=np.float32)
        labels, n = ndimage.label(block >= cfg.grow, structure=_STRUCTURE)
        if n:
            pieces.append(_slab_parts(block, labels, n, z0))
            labels[labels > 0] += base  # one numbering over all slabs
        if border is not None and n:
            links.append(_touching(border, labels[0]))
        border = labels[-1] if n else None
        base += n
        yield Progress("defects", z1, nz, f"defects: slices {z0}-{z1 - 1} of {nz}")
    parts = Parts.concat(pieces)
    objects = merge(parts, _roots(base, links))
    return to_defects(objects, cfg, spacing, origin)


def _slab_parts(block: np.ndarray, labels: np.ndarray, n: int, z0: int) -> Parts:
    """The statistics of a slab's components (labels 1..n) as parts 0..n-1."""
    flat = np.flatnonzero(labels)
    z, y, x = np.unravel_index(flat, labels.shape)
    value = np.nan_to_num(block.ravel()[flat], nan=0.0)
    return Parts.of_voxels(labels.ravel()[flat].astype(np.int64) - 1, z + z0, y, x, value, n)


def _touching(above: np.ndarray, below: np.ndarray) -> np.ndarray:
    """Pairs ``(a, b)`` of labels (1-based) of two neighbouring planes that touch (26-connectivity)."""
    ny, nx = above.shape
    pairs = []
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            a = above[max(0, dy):ny + min(0, dy), max(0, dx):nx + min(0, dx)]
            b = below[max(0, -dy):ny + min(0, -dy), max(0, -dx):nx + min(0, -dx)]
            both = (a > 0) & (b > 0)
            if both.any():
                pairs.append(np.stack([a[both], b[both]], axis=1))
    if not pairs:
        return np.zeros((0, 2), np.int64)
    both = np.concatenate(pairs).astype(np.int64)
    # one int64 key per pair: a 1-D unique sorts numbers, not rows (several times faster on big planes)
    width = int(both[:, 1].max()) + 1
    keys = np.unique(both[:, 0] * width + both[:, 1])
    return np.stack([keys // width, keys % width], axis=1)


def _roots(n: int, links: list[np.ndarray]) -> np.ndarray:
    """Object (0..m-1) of each of ``n`` parts, parts joined by ``links`` (1-based label pairs)."""
    if n == 0:
        return np.zeros(0, np.int64)
    pairs = np.concatenate(links) if links else np.zeros((0, 2), np.int64)
    if pairs.size == 0:
        return np.arange(n, dtype=np.int64)
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    a, b = pairs[:, 0].astype(np.int64) - 1, pairs[:, 1].astype(np.int64) - 1
    graph = coo_matrix((np.ones(a.size, np.int8), (a, b)), shape=(n, n))
    _, root = connected_components(graph, directed=False)
    return np.asarray(root, np.int64)
