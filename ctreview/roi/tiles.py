"""Model tiles inside ROI boxes, at native resolution."""
from __future__ import annotations

import numpy as np

from ctreview.results import Box


def _starts(lo: int, hi: int, tile: int, stride: int, limit: int) -> list[int]:
    """Tile starts covering [lo, hi) with overlap; a short span gets one centred tile."""
    top = max(0, limit - tile)
    if hi - lo <= tile:
        return [int(min(max(0, (lo + hi - tile) // 2), top))]
    starts = list(range(lo, hi - tile, stride)) + [hi - tile]
    return sorted({int(min(max(0, s), top)) for s in starts})


def tile_grid(box: Box, shape: tuple[int, int], tile_size: int, stride: int) -> tuple[list[int], list[int]]:
    """Tile rows and columns covering a box (see :func:`tile_positions`)."""
    y0, x0, y1, x1 = box
    return (_starts(y0, y1, tile_size, stride, shape[0]), _starts(x0, x1, tile_size, stride, shape[1]))


def tile_positions(box: Box, shape: tuple[int, int], tile_size: int, stride: int) -> list[tuple[int, int]]:
    """Top-left corners (y, x) of tiles covering a box.

    Parameters
    ----------
    box : (y0, x0, y1, x1)
        Half-open box in slice pixels.
    shape : (height, width)
        Slice shape; tiles stay inside it (where the slice is at least a tile big).
    tile_size, stride : int

    Returns
    -------
    list of (y, x)
    """
    ys, xs = tile_grid(box, shape, tile_size, stride)
    return [(y, x) for y in ys for x in xs]


def cut_tiles(image: np.ndarray, tiles: list[tuple[int, int]], tile_size: int) -> np.ndarray:
    """Cut square tiles out of a slice.

    Parameters
    ----------
    image : ndarray, shape (y, x)
    tiles : list of (y, x)
        Top-left corners.
    tile_size : int

    Returns
    -------
    ndarray, shape (n, tile_size, tile_size), image's dtype
        A slice smaller than a tile is padded with its edge values.
    """
    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError(f"cut_tiles needs a (y, x) slice, got shape {image.shape}")
    T = int(tile_size)
    pad_y, pad_x = max(0, T - image.shape[0]), max(0, T - image.shape[1])
    if pad_y or pad_x:
        image = np.pad(image, ((0, pad_y), (0, pad_x)), mode="edge")
    out = np.empty((len(tiles), T, T), image.dtype)
    for i, (y, x) in enumerate(tiles):
        out[i] = image[y:y + T, x:x + T]
    return out


def _overlap(start: int, tile_size: int, factor: int, n: int) -> np.ndarray:
    """Pixels of [start, start + tile_size) falling in each of ``n`` coarse cells of ``factor``."""
    lo = np.arange(n) * factor
    return np.clip(np.minimum(start + tile_size, lo + factor) - np.maximum(start, lo), 0, None)


def tile_fractions(coarse: np.ndarray, factor: int, shape: tuple[int, int],
                   ys: list[int], xs: list[int], tile_size: int) -> np.ndarray:
    """Fraction of each tile of a grid covered by the part.

    Parameters
    ----------
    coarse : ndarray of bool, shape (yc, xc)
        The slice's part mask on the coarse grid; full-resolution pixel
        (y, x) belongs to cell (y // factor, x // factor).
    factor : int
    shape : (height, width)
        Full-resolution slice shape (the coarse grid may overhang it).
    ys, xs : list of int
        Tile rows and columns; the grid is every (y, x) pair.
    tile_size : int

    Returns
    -------
    ndarray of float, shape (len(ys), len(xs))
    """
    wy = np.stack([_overlap(y, min(tile_size, shape[0] - y), factor, coarse.shape[0]) for y in ys])
    wx = np.stack([_overlap(x, min(tile_size, shape[1] - x), factor, coarse.shape[1]) for x in xs])
    return (wy @ coarse.astype(np.float64) @ wx.T) / float(tile_size * tile_size)
