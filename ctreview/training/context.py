"""Context tiles: the same tile position in slices a few slices up and down.

Electronic parts are prismatic over most of their height, so the same
place a few slices away shows what this slice should look like; a defect,
a few slices deep, shows only in some of them. A tile stack is
``(C, T, T)``: channel 0 the centre slice k, channel ``1 + i`` slice
``k + offsets[i]``.

Which slices stand beside a slice is decided in :mod:`ctreview.roi.context`,
the same rule scoring uses.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ctreview.io import VolumeLike
from ctreview.roi import RoiResult
from ctreview.roi.context import OFFSETS, SliceReader, context_indices
from ctreview.roi.tiles import cut_tiles


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


def volume_context_tiles(volume: VolumeLike | np.ndarray, roi: RoiResult, offsets: Sequence[int] = OFFSETS, *,
                         group: int = 0, centres: Sequence[int] | None = None, limit: int | None = None,
                         seed: int = 0) -> ContextTiles:
    """Cut the ROI tiles of a volume with their context tiles.

    Parameters
    ----------
    volume : Volume or ndarray, shape (z, y, x)
    roi : RoiResult
        From :func:`ctreview.roi.extract_roi`; its ``tile_size`` and per-slice tiles are used.
    offsets : sequence of int
    group : int
        Stored in ``groups`` for every tile.
    centres : sequence of int, optional
        Cut tiles centred on these ROI slices only (default: all); context comes from every ROI slice.
    limit : int, optional
        At most this many tiles, a seeded uniform sample of them (only their slices are read), so
        the memory does not grow with the scan.
    seed : int

    Returns
    -------
    ContextTiles
    """
    reader, keys, T = SliceReader(volume), sorted(roi.slices), int(roi.tile_size)
    wanted = set(keys if centres is None else centres) & set(keys)
    pairs = [(k, i) for k in keys if k in wanted for i in range(len(roi.slices[k].tiles))]
    if limit is not None and len(pairs) > limit:
        pick = np.random.default_rng(seed).choice(len(pairs), int(limit), replace=False)
        pairs = [pairs[i] for i in sorted(pick)]
    chosen: dict[int, list[int]] = {}
    for k, i in pairs:
        chosen.setdefault(k, []).append(i)
    parts, masks, ks, pos = [], [], [], []
    for k, which in chosen.items():
        sroi = roi.slices[k]
        tiles = [sroi.tiles[i] for i in which]
        stack = slice_stack(reader, k, keys, offsets)
        parts.append(stack_tiles(stack, tiles, T))
        masks.append(cut_tiles(sroi.mask(stack.shape[1:]), tiles, T))
        ks += [k] * len(tiles)
        pos += list(tiles)
    C = 1 + len(offsets)
    tiles_out = np.concatenate(parts) if parts else np.zeros((0, C, T, T), np.float32)
    mask = np.concatenate(masks) if masks else np.zeros((0, T, T), bool)
    return ContextTiles(tiles_out.astype(np.float32, copy=False), mask.astype(bool), np.asarray(ks, int),
                        np.asarray(pos, int).reshape(-1, 2), np.full(len(ks), group, int), tuple(offsets))


def concat_context(sets: Sequence[ContextTiles]) -> ContextTiles:
    """Join several :class:`ContextTiles` (same offsets and tile size) into one."""
    if not sets:
        raise ValueError("nothing to join")
    def join(name: str) -> np.ndarray:
        return np.concatenate([getattr(s, name) for s in sets])

    return ContextTiles(join("tiles"), join("masks"), join("slices"), join("positions"), join("groups"),
                        sets[0].offsets)
