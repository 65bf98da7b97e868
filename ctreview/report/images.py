"""Slice pictures for reports: grey slice, red heatmap, ROI and best-tile boxes, as PNG bytes.

Drawn with NumPy and PIL only (no GUI), so reports can be written headless
and from a worker thread.
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw

ROI_COLOUR = (0, 200, 255)      # cyan: does not read as "anomaly"
TILE_COLOUR = (255, 230, 0)     # yellow: the best-scoring tile
HEAT_COLOUR = np.array([255, 0, 0], np.float32)
HEAT_FLOOR = 0.25               # heat below this fraction of the slice's maximum stays clear
HEAT_ALPHA = 0.85


def window(image: np.ndarray, low: float = 1.0, high: float = 99.5) -> np.ndarray:
    """Return a (y, x) uint8 grey picture, windowed between two percentiles of ``image``."""
    data = np.asarray(image, np.float32)
    finite = data[np.isfinite(data)]
    if finite.size == 0:
        return np.zeros(data.shape, np.uint8)
    sample = finite[:: max(1, finite.size // 250_000)]  # percentiles of a sample: fast on big slices
    lo, hi = np.percentile(sample, [low, high])
    if hi <= lo:
        hi = lo + 1.0
    grey = (np.nan_to_num(data, nan=lo) - lo) / (hi - lo)
    return (np.clip(grey, 0.0, 1.0) * 255).astype(np.uint8)


def overlay(image: np.ndarray, heatmap: np.ndarray | None) -> np.ndarray:
    """Return (y, x, 3) uint8 RGB: the windowed slice with the heatmap blended in red.

    The heatmap is scaled by its own maximum; weak heat (below
    :data:`HEAT_FLOOR`) is left out so that noise does not tint the part.
    """
    grey = window(image).astype(np.float32)
    rgb = np.repeat(grey[..., None], 3, axis=2)
    if heatmap is not None and heatmap.shape == image.shape:
        heat = np.nan_to_num(np.asarray(heatmap, np.float32), nan=0.0, posinf=0.0, neginf=0.0)
        peak = float(heat.max())
        if peak > 0:
            # Steep ramp: heat reaches full opacity halfway to the peak, so it reads
            # as red (not pink) even on the bright metal of the part.
            ramp = (heat / peak - HEAT_FLOOR) / ((1 - HEAT_FLOOR) / 2)
            strength = np.clip(ramp, 0, 1) * HEAT_ALPHA
            rgb = rgb * (1 - strength[..., None]) + HEAT_COLOUR * strength[..., None]
    return np.clip(rgb, 0, 255).astype(np.uint8)


def slice_png(image: np.ndarray, heatmap: np.ndarray | None, boxes: list,
              tile_box: tuple | None, *, size: int = 480) -> bytes:
    """Render one slice for a report and return it as PNG bytes.

    Parameters
    ----------
    image : ndarray, shape (y, x)
        The slice, any numeric dtype.
    heatmap : ndarray, shape (y, x), or None
        The slice's heatmap (shown red), None to show none.
    boxes : list of (y0, x0, y1, x1)
        ROI boxes, drawn cyan.
    tile_box : (y0, x0, y1, x1) or None
        The best tile, drawn yellow.
    size : int
        Length in pixels of the picture's longer side (scaled up or down).
    """
    rgb = overlay(image, heatmap)
    ny, nx = rgb.shape[:2]
    scale = size / max(ny, nx)
    picture = Image.fromarray(rgb, "RGB")
    new_size = (max(1, round(nx * scale)), max(1, round(ny * scale)))
    resample = Image.Resampling.NEAREST if scale >= 1 else Image.Resampling.BOX
    picture = picture.resize(new_size, resample)
    draw = ImageDraw.Draw(picture)
    width = max(2, size // 240)
    for colour, box_list in ((ROI_COLOUR, boxes or []), (TILE_COLOUR, [tile_box] if tile_box else [])):
        for y0, x0, y1, x1 in box_list:
            draw.rectangle([x0 * scale, y0 * scale, x1 * scale - 1, y1 * scale - 1],
                           outline=colour, width=width)
    out = io.BytesIO()
    picture.save(out, format="PNG", compress_level=1)  # speed over bytes: the PDF recompresses
    return out.getvalue()
