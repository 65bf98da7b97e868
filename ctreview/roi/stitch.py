"""Put tile maps back into slice coordinates."""
from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter


def stitch(maps: np.ndarray, tiles: list[tuple[int, int]], shape: tuple[int, int],
           mask: np.ndarray | None = None, sigma: float = 1.0) -> np.ndarray:
    """Average overlapping tile maps into one slice map.

    Parameters
    ----------
    maps : ndarray, shape (n, T, T)
        One map per tile.
    tiles : list of (y, x)
        Top-left corner of each tile in the slice.
    shape : (y, x)
        Slice shape.
    mask : ndarray, shape (y, x), bool, optional
        ROI mask; the result is zero outside it.
    sigma : float
        Light Gaussian smoothing (pixels) against tile seams.

    Returns
    -------
    ndarray, shape (y, x), float32
    """
    acc = np.zeros(shape, np.float32)
    cnt = np.zeros(shape, np.float32)
    t = maps.shape[-1] if len(maps) else 0
    for m, (y, x) in zip(maps, tiles):
        h, w = min(t, shape[0] - y), min(t, shape[1] - x)
        acc[y:y + h, x:x + w] += m[:h, :w]
        cnt[y:y + h, x:x + w] += 1
    heat = np.divide(acc, cnt, out=np.zeros_like(acc), where=cnt > 0)
    if sigma > 0:
        heat = gaussian_filter(heat, sigma).astype(np.float32)
    if mask is not None:
        heat[~mask.astype(bool)] = 0.0
    return heat
