"""Context tiles: the same tile position in slices a few slices up and down.

Electronic parts are prismatic over most of their height, so the same
place a few slices away shows what this slice should look like; a defect,
a few slices deep, shows only in some of them. A tile stack is
``(C, T, T)``: channel 0 the centre slice k, channel ``1 + i`` slice
``k + offsets[i]``.

Slices beyond the ends of the part are replaced by the nearest slice of the
ROI. Zeros (or the air outside the part) would look to a detector exactly
like missing material; the nearest ROI slice looks like the part and at
worst hides a change that is truly there, the safe way round.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ctreview.roi.tiles import cut_tiles

OFFSETS = (-6, -3, 3, 6)
"""Default context offsets along z (slices)."""


def nearest_slice(j: int, roi_slices: Sequence[int]) -> int:
    """Return the ROI slice nearest to ``j`` (``roi_slices`` ascending, not empty); ties go down."""
    pos = bisect.bisect_left(roi_slices, j)
    if pos < len(roi_slices) and roi_slices[pos] == j:
        return int(j)
    below = roi_slices[pos - 1] if pos > 0 else None
    above = roi_slices[pos] if pos < len(roi_slices) else None
    if below is None:
        return int(above)
    if above is None or j - below <= above - j:
        return int(below)
    return int(above)


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
        self.volume = volume
        self.cache = int(cache)
        self._store: dict[int, np.ndarray] = {}

    def __call__(self, k: int) -> np.ndarray:
        k = int(k)
        if k not in self._store:
            if len(self._store) >= self.cache:
                self._store.pop(next(iter(self._store)))
            if hasattr(self.volume, "slice"):
                plane = self.volume.slice(k)
            else:
                plane = np.asarray(self.volume[k])
            self._store[k] = np.asarray(plane, np.float32)
        return self._store[k]


def slice_stack(reader: SliceReader, k: int, roi_slices: Sequence[int],
                offsets: Sequence[int] = OFFSETS) -> np.ndarray:
    """Return the context stack of whole slice ``k``, shape ``(1 + len(offsets), y, x)`` float32."""
    return np.stack([reader(j) for j in context_indices(k, roi_slices, offsets)])


def stack_tiles(stack: np.ndarray, tiles: list[tuple[int, int]], tile_size: int) -> np.ndarray:
    """Cut the same tiles out of every channel of a stack ``(C, y, x)``; returns ``(n, C, T, T)``."""
    cut = [cut_tiles(channel, tiles, tile_size) for channel in stack]
    return np.stack(cut, axis=1) if cut else np.zeros((len(tiles), 0, tile_size, tile_size), np.float32)


@dataclass
class ContextTiles:
    """Context tile stacks cut from the ROI of one or more volumes.

    Attributes
    ----------
    tiles : ndarray, shape (n, C, T, T), float32
        Channel 0 the centre slice, channels 1.. the context slices.
    masks : ndarray, shape (n, T, T), bool
        The ROI mask of the centre slice inside each tile.
    slices : ndarray, shape (n,), int
        Centre slice index of each tile.
    positions : ndarray, shape (n, 2), int
        Top-left (y, x) of each tile.
    groups : ndarray, shape (n,), int
        Which volume each tile came from (for hold-out splits by volume).
    offsets : tuple of int
    """

    tiles: np.ndarray
    masks: np.ndarray
    slices: np.ndarray
    positions: np.ndarray
    groups: np.ndarray
    offsets: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.tiles)


def volume_context_tiles(volume: Any, roi: Any, offsets: Sequence[int] = OFFSETS, *,
                         group: int = 0) -> ContextTiles:
    """Cut every ROI tile of a volume with its context tiles.

    Parameters
    ----------
    volume : Volume or ndarray, shape (z, y, x)
    roi : RoiResult
        From :func:`ctreview.roi.extract_roi`; its ``tile_size`` and per-slice tiles are used.
    offsets : sequence of int
    group : int
        Stored in ``groups`` for every tile.

    Returns
    -------
    ContextTiles
    """
    reader, keys, T = SliceReader(volume), sorted(roi.slices), int(roi.tile_size)
    parts, masks, ks, pos = [], [], [], []
    for k in keys:
        sroi = roi.slices[k]
        stack = slice_stack(reader, k, keys, offsets)
        parts.append(stack_tiles(stack, sroi.tiles, T))
        masks.append(cut_tiles(sroi.mask(stack.shape[1:]), sroi.tiles, T))
        ks += [k] * len(sroi.tiles)
        pos += list(sroi.tiles)
    C = 1 + len(offsets)
    tiles = np.concatenate(parts) if parts else np.zeros((0, C, T, T), np.float32)
    mask = np.concatenate(masks) if masks else np.zeros((0, T, T), bool)
    return ContextTiles(tiles.astype(np.float32, copy=False), mask.astype(bool), np.asarray(ks, int),
                        np.asarray(pos, int).reshape(-1, 2), np.full(len(ks), group, int), tuple(offsets))


def concat_context(sets: Sequence[ContextTiles]) -> ContextTiles:
    """Join several :class:`ContextTiles` (same offsets and tile size) into one."""
    if not sets:
        raise ValueError("nothing to join")
    return ContextTiles(*(np.concatenate([getattr(s, f) for s in sets])
                          for f in ("tiles", "masks", "slices", "positions", "groups")), sets[0].offsets)
