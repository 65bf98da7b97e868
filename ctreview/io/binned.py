"""A volume seen at a coarser voxel size: blocks of voxels averaged, read on demand.

A model of normality learns a part at one scale. A scan of the same part at
four times the resolution shows it four times larger, which the model has
never seen, and costs sixteen times more per slice. Binning (the block mean
CT software calls "binning 4x4") brings such a scan to the model's scale; it
is read slice block by slice block, so memory stays that of a few slices
whatever the volume's size.
"""
from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np

from ctreview.io.like import VolumeLike
from ctreview.io.volume import Volume

CACHED_SLICES = 24
"""Binned slices kept: the context of a slice (k +- 6) is read with it, so each is read once."""


def block_mean(block: np.ndarray, b: int) -> np.ndarray:
    """Mean of ``b`` x ``b`` pixel blocks of ``block`` (z, y, x) and of its z slices; edges averaged partially.

    Returns
    -------
    ndarray of float32, shape (ceil(y / b), ceil(x / b))
    """
    plane = block.astype(np.float32).mean(axis=0) if block.shape[0] > 1 else block[0].astype(np.float32)
    if b == 1:
        return plane
    ny, nx = plane.shape
    py, px = (-ny) % b, (-nx) % b
    if py or px:
        plane = np.pad(plane, ((0, py), (0, px)), mode="edge")
    return plane.reshape(plane.shape[0] // b, b, plane.shape[1] // b, b).mean(axis=(1, 3))


class BinnedSource:
    """The :class:`~ctreview.io.volume.Source` of a binned view of another volume.

    Parameters
    ----------
    volume : VolumeLike
        The full-resolution volume, (z, y, x).
    factors : (int, int)
        ``(bz, bxy)``: slices averaged along z, pixels per side in y and x.
    """

    def __init__(self, volume: VolumeLike, factors: tuple[int, int]) -> None:
        self.volume = volume
        self.bz, self.bxy = (max(1, int(f)) for f in factors)
        nz, ny, nx = volume.shape
        self.shape = (-(-nz // self.bz), -(-ny // self.bxy), -(-nx // self.bxy))
        self.dtype = np.dtype(volume.dtype)
        self.files: list[Path] = list(getattr(getattr(volume, "_source", None), "files", []) or [])
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()

    def _binned(self, j: int) -> np.ndarray:
        hit = self._cache.get(j)
        if hit is not None:
            self._cache.move_to_end(j)
            return hit
        block = self.volume.read(j * self.bz, min((j + 1) * self.bz, self.volume.shape[0]))
        plane = block_mean(block, self.bxy)
        if self.dtype.kind in "iu":  # keep the grey dtype the model's windows and checks expect
            info = np.iinfo(self.dtype)
            plane = np.clip(np.rint(plane), info.min, info.max)
        out = plane.astype(self.dtype)
        self._cache[j] = out
        while len(self._cache) > CACHED_SLICES:
            self._cache.popitem(last=False)
        return out

    def read(self, z0: int, z1: int) -> np.ndarray:
        return np.stack([self._binned(j) for j in range(z0, z1)]) if z1 > z0 else \
            np.empty((0, *self.shape[1:]), self.dtype)

    def close(self) -> None:
        self._cache.clear()


def binned(volume: VolumeLike, factors: tuple[int, int]) -> VolumeLike:
    """``volume`` binned by ``(bz, bxy)`` (itself when both are 1).

    Returns
    -------
    VolumeLike
        Shape ``(ceil(z / bz), ceil(y / bxy), ceil(x / bxy))``, spacing
        multiplied accordingly, the same path, format and dtype;
        ``metadata["binned"]`` holds the factors and the full shape.
    """
    bz, bxy = (max(1, int(f)) for f in factors)
    if (bz, bxy) == (1, 1):
        return volume
    sz, sy, sx = volume.spacing
    meta = {**dict(getattr(volume, "metadata", {}) or {}),
            "binned": {"factors": [bz, bxy, bxy], "full_shape": list(volume.shape)}}
    view = Volume(BinnedSource(volume, (bz, bxy)), path=volume.path, format=volume.format,
                  spacing=(sz * bz, sy * bxy, sx * bxy), origin=getattr(volume, "origin", (0.0, 0.0, 0.0)),
                  metadata=meta, layout=volume.layout)
    view.warnings = list(volume.warnings)  # the scan's own notes, said once when it was opened
    return view
