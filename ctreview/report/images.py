"""Slice pictures for reports: grey slice, red heatmap, ROI and best-tile boxes, as PNG bytes.

Where the model drew the slice it expected, a flagged slice is shown as the
seeds' figure: scan | expected | anomaly (the scan with its heatmap in red).

Drawn with NumPy and PIL only (no GUI), so reports can be written headless
and from a worker thread.
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont

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


def png_aspect(png: bytes) -> float:
    """Width over height of a PNG picture."""
    with Image.open(io.BytesIO(png)) as picture:
        return picture.width / max(1, picture.height)


def triptych_png(image: np.ndarray, expected: np.ndarray, heatmap: np.ndarray | None, boxes: list,
                 tile_box: tuple | None, *, size: int = 480) -> bytes:
    """Scan | expected | anomaly side by side, labelled, as PNG bytes (each panel as :func:`slice_png`).

    ``expected`` is the slice the model expected, 0 outside the ROI (the scan
    shows there); all three panels share the scan's grey window.
    """
    scan = np.asarray(image, np.float32)
    drawn = np.where(np.asarray(expected) != 0, expected, scan) if expected.shape == scan.shape else scan
    lo, hi = _window_of(scan)
    panels = [_picture(_grey(scan, lo, hi), boxes, tile_box, size),
              _picture(_grey(drawn, lo, hi), [], None, size),
              _picture(overlay(scan, heatmap), boxes, tile_box, size)]
    gap = max(4, size // 60)
    out = Image.new("RGB", (sum(p.width for p in panels) + 2 * gap, max(p.height for p in panels)), (255, 255, 255))
    x, font = 0, _font(max(12, size // 20))
    for picture, label in zip(panels, ("scan", "expected", "anomaly")):
        out.paste(picture, (x, 0))
        ImageDraw.Draw(out).text((x + gap, gap), label, fill=(255, 255, 0), font=font)
        x += picture.width + gap
    buffer = io.BytesIO()
    out.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """PIL's own font at ``size`` pixels (Pillow >= 10.1 scales it; older ones have one size)."""
    try:
        return ImageFont.load_default(size=size)
    except TypeError:
        return ImageFont.load_default()


def _window_of(image: np.ndarray, low: float = 1.0, high: float = 99.5) -> tuple[float, float]:
    finite = image[np.isfinite(image)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = np.percentile(finite[:: max(1, finite.size // 250_000)], [low, high])
    return float(lo), float(hi if hi > lo else lo + 1.0)


def _grey(image: np.ndarray, lo: float, hi: float) -> np.ndarray:
    grey = np.clip((np.nan_to_num(image, nan=lo) - lo) / (hi - lo), 0.0, 1.0) * 255
    return np.repeat(grey.astype(np.uint8)[..., None], 3, axis=2)


def _picture(rgb: np.ndarray, boxes: list, tile_box: tuple | None, size: int) -> Image.Image:
    """An RGB array scaled to ``size`` on its longer side, with the ROI (cyan) and best-tile (yellow) boxes."""
    ny, nx = rgb.shape[:2]
    scale = size / max(ny, nx)
    picture = Image.fromarray(rgb, "RGB")
    resample = Image.Resampling.NEAREST if scale >= 1 else Image.Resampling.BOX
    picture = picture.resize((max(1, round(nx * scale)), max(1, round(ny * scale))), resample)
    draw = ImageDraw.Draw(picture)
    width = max(2, size // 240)
    for colour, box_list in ((ROI_COLOUR, boxes or []), (TILE_COLOUR, [tile_box] if tile_box else [])):
        for y0, x0, y1, x1 in box_list:
            draw.rectangle([x0 * scale, y0 * scale, x1 * scale - 1, y1 * scale - 1], outline=colour, width=width)
    return picture


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
    picture = _picture(overlay(image, heatmap), boxes, tile_box, size)
    out = io.BytesIO()
    picture.save(out, format="PNG", compress_level=1)  # speed over bytes: the PDF recompresses
    return out.getvalue()
