"""Statistics of object parts and their merging into defects (private to the labelling).

A *part* is a piece of an object: a component of one slab (dense labelling)
or one voxel (the streaming tracker). Parts carry sums, not means, so parts
joined across slab borders merge exactly into one object's statistics.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ctreview.defects.objects import Defect, sphere_diameter
from ctreview.defects.settings import DefectSettings

_FIELDS = ("count", "sum_z", "sum_y", "sum_x", "sum_v", "peak", "peak_z", "peak_y", "peak_x",
           "z0", "z1", "y0", "y1", "x0", "x1")


@dataclass
class Parts:
    """Per-part statistics, one entry per part, as parallel 1D arrays.

    ``count`` voxels; ``sum_*`` of their z, y, x indices and values;
    ``peak`` and where it is; the half-open box ``z0:z1, y0:y1, x0:x1``.
    """

    count: np.ndarray
    sum_z: np.ndarray
    sum_y: np.ndarray
    sum_x: np.ndarray
    sum_v: np.ndarray
    peak: np.ndarray
    peak_z: np.ndarray
    peak_y: np.ndarray
    peak_x: np.ndarray
    z0: np.ndarray
    z1: np.ndarray
    y0: np.ndarray
    y1: np.ndarray
    x0: np.ndarray
    x1: np.ndarray

    def __len__(self) -> int:
        return int(self.count.size)

    @classmethod
    def empty(cls) -> Parts:
        return cls(**{name: np.zeros(0, np.float64 if name.startswith("sum") or name == "peak" else np.int64)
                      for name in _FIELDS})

    @classmethod
    def concat(cls, parts: Sequence[Parts]) -> Parts:
        if not parts:
            return cls.empty()
        return cls(**{name: np.concatenate([getattr(p, name) for p in parts]) for name in _FIELDS})

    @classmethod
    def of_voxels(cls, label: np.ndarray, z: np.ndarray, y: np.ndarray, x: np.ndarray,
                  value: np.ndarray, n: int) -> Parts:
        """Parts ``0..n-1`` from voxels of part ``label`` at ``(z, y, x)`` with ``value`` (1D arrays).

        Every part must have a voxel.
        """
        if label.size == 0:
            return cls.empty()
        count = np.bincount(label, minlength=n).astype(np.int64)
        sums = [np.bincount(label, weights=w.astype(np.float64), minlength=n) for w in (z, y, x, value)]
        order = np.argsort(label, kind="stable")  # one sort of the labels, not of every key of every voxel
        sorted_label = label[order]
        starts = np.flatnonzero(np.r_[True, sorted_label[1:] != sorted_label[:-1]])
        if starts.size != n:
            raise ValueError("every part needs a voxel")
        v = value[order].astype(np.float64)
        high = np.maximum.reduceat(v, starts)
        # the peak: the part's highest value, among equal values the first voxel along (z, y, x);
        # only the voxels at their part's highest value take part in that sort
        cand = order[v == np.repeat(high, np.diff(np.r_[starts, v.size]))]
        cand = cand[np.lexsort((x[cand], y[cand], z[cand], label[cand]))]
        top = cand[np.r_[True, label[cand][1:] != label[cand][:-1]]]
        box = []
        for a in (z, y, x):
            ordered = a[order].astype(np.int64)
            box += [np.minimum.reduceat(ordered, starts), np.maximum.reduceat(ordered, starts) + 1]
        return cls(count=count, sum_z=sums[0], sum_y=sums[1], sum_x=sums[2], sum_v=sums[3],
                   peak=value[top].astype(np.float64), peak_z=z[top].astype(np.int64),
                   peak_y=y[top].astype(np.int64), peak_x=x[top].astype(np.int64),
                   z0=box[0], z1=box[1], y0=box[2], y1=box[3], x0=box[4], x1=box[5])


def merge(parts: Parts, root: np.ndarray) -> Parts:
    """Merge parts with the same ``root`` (0..m-1, every root used) into one part each."""
    m = int(root.max()) + 1 if root.size else 0
    order = np.argsort(root, kind="stable")
    starts = np.flatnonzero(np.r_[True, root[order][1:] != root[order][:-1]]) if root.size else np.zeros(0, int)

    def add(a: np.ndarray) -> np.ndarray:
        return np.add.reduceat(a[order], starts) if m else a[:0]

    def low(a: np.ndarray) -> np.ndarray:
        return np.minimum.reduceat(a[order], starts) if m else a[:0]

    def high(a: np.ndarray) -> np.ndarray:
        return np.maximum.reduceat(a[order], starts) if m else a[:0]

    best = np.lexsort((-parts.peak_x, -parts.peak_y, -parts.peak_z, parts.peak, root))
    best = best[np.flatnonzero(np.r_[root[best][1:] != root[best][:-1], True])] if m else best
    return Parts(add(parts.count), add(parts.sum_z), add(parts.sum_y), add(parts.sum_x), add(parts.sum_v),
                 parts.peak[best], parts.peak_z[best], parts.peak_y[best], parts.peak_x[best],
                 low(parts.z0), high(parts.z1), low(parts.y0), high(parts.y1), low(parts.x0), high(parts.x1))


def to_defects(objects: Parts, settings: DefectSettings, spacing: Sequence[float],
               origin: Sequence[float]) -> list[Defect]:
    """Keep the objects with a seed and enough voxels; number them along (z, y, x), rank by peak."""
    keep = np.flatnonzero((objects.peak >= settings.seed) & (objects.count >= settings.min_voxels))
    sz, sy, sx = (float(s) for s in spacing)
    oz, oy, ox = (float(o) for o in origin)
    cz, cy, cx = (getattr(objects, f"sum_{a}")[keep] / objects.count[keep] for a in "zyx")
    # id order: top-most slice first, then the first voxel's row and column, then the centroid
    by_position = np.lexsort((cx, cy, cz, objects.x0[keep], objects.y0[keep], objects.z0[keep]))
    ids = np.empty(keep.size, np.int64)
    ids[by_position] = np.arange(1, keep.size + 1)
    by_peak = np.lexsort((ids, -objects.count[keep], -objects.peak[keep]))
    ranks = np.empty(keep.size, np.int64)
    ranks[by_peak] = np.arange(1, keep.size + 1)
    voxel_mm3 = sz * sy * sx
    out = []
    for j, i in enumerate(keep):
        n = int(objects.count[i])
        volume = n * voxel_mm3
        out.append(Defect(
            id=int(ids[j]), rank=int(ranks[j]),
            z0=int(objects.z0[i]), z1=int(objects.z1[i]), y0=int(objects.y0[i]), y1=int(objects.y1[i]),
            x0=int(objects.x0[i]), x1=int(objects.x1[i]),
            centroid_z=float(cz[j]), centroid_y=float(cy[j]), centroid_x=float(cx[j]),
            centroid_z_mm=oz + float(cz[j]) * sz, centroid_y_mm=oy + float(cy[j]) * sy,
            centroid_x_mm=ox + float(cx[j]) * sx,
            voxels=n, volume_mm3=float(volume), diameter_mm=sphere_diameter(volume),
            peak=float(objects.peak[i]), mean=float(objects.sum_v[i] / n),
            peak_slice=int(objects.peak_z[i]), peak_y=int(objects.peak_y[i]), peak_x=int(objects.peak_x[i])))
    return sorted(out, key=lambda d: d.rank)
