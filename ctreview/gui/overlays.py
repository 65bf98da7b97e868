"""Drawing helpers for the slice view: heatmap colour table and box outlines."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem

from ctreview.results import Box

HEAT_MAPS = ("red", "hot", "viridis")
"""Colour maps of the heatmap layer; red is the default."""


@dataclass(frozen=True)
class Overlay:
    """How one overlay of the slice view is drawn and what it means (the legend shows these)."""

    colour: str
    width: float
    style: Qt.PenStyle
    name: str
    meaning: str


OVERLAYS = {
    "hot": Overlay("#ff1744", 2.0, Qt.PenStyle.SolidLine, "Hot spot (red)",
                   "tight around each region of the heatmap at or above the threshold (relative 1.0, or where "
                   "the threshold line is dragged); drawn with the heatmap (H)"),
    "outline": Overlay("#00bcd4", 1.2, Qt.PenStyle.DashLine, "Part outline (cyan, dashed)",
                       "the part's footprint in this slice, as the ROI step found it (B)"),
    "boxes": Overlay("#ff9800", 1.0, Qt.PenStyle.SolidLine, "ROI boxes (orange)",
                     "the regions of interest the model scores in this slice; the rest is not scored (B)"),
    "tiles": Overlay("#9e9e9e", 0.6, Qt.PenStyle.DotLine, "Tiles (grey, dotted)",
                     "the square tiles the model looks at, one at a time (toolbar: Tiles)"),
    "crosshair": Overlay("#00e5ff", 1.0, Qt.PenStyle.DashLine, "Crosshair (light cyan, dashed lines)",
                         "three planes (O): where the XZ and YZ planes cut this slice; click to move it"),
    "ruler": Overlay("#76ff03", 2.0, Qt.PenStyle.SolidLine, "Ruler (green)",
                     "a distance measured with the ruler (M), in mm"),
}
"""Every line overlay of the slice view by layer name: one table for the pens and the legend."""


def heat_lut(threshold: float, n: int = 256, cmap: str = "red") -> np.ndarray:
    """Return an ``(n, 4)`` uint8 RGBA table: transparent below ``threshold``, coloured above.

    Parameters
    ----------
    threshold : float
        Fraction of the heatmap scale (0..1) below which nothing is drawn.
    n : int
        Table length.
    cmap : str
        One of :data:`HEAT_MAPS` (unknown names draw red).
    """
    lut = np.zeros((n, 4), np.uint8)
    start = int(np.clip(threshold, 0.0, 1.0) * (n - 1))
    ramp = np.linspace(0.0, 1.0, max(n - start, 1))
    lut[start:, :3] = _colours(cmap, ramp)
    lut[start:, 3] = (90 + ramp * 165).astype(np.uint8)
    return lut


def _colours(cmap: str, ramp: np.ndarray) -> np.ndarray:
    """RGB ``(len(ramp), 3)`` uint8 of a colour map along ``ramp`` in 0..1."""
    if cmap == "hot":  # dark red -> red -> yellow -> white, like the classic map without its black
        r = np.clip(0.45 + ramp * 1.6, 0, 1)
        g = np.clip((ramp - 0.3) * 2.0, 0, 1)
        b = np.clip((ramp - 0.75) * 4.0, 0, 1)
        return (np.stack([r, g, b], axis=1) * 255).astype(np.uint8)
    if cmap == "viridis":
        table = pg.colormap.get("viridis").getLookupTable(0.0, 1.0, 256, alpha=False)
        return np.asarray(table[(ramp * 255).astype(int)], np.uint8)[:, :3]
    out = np.zeros((ramp.size, 3), np.uint8)
    out[:, 0] = 255
    out[:, 1] = (ramp * 90).astype(np.uint8)  # hottest parts lean to orange
    return out


def boxes_path(boxes: Iterable[Box]) -> QPainterPath:
    """Return one path holding the outline of every ``(y0, x0, y1, x1)`` box."""
    path = QPainterPath()
    for y0, x0, y1, x1 in boxes:
        path.addRect(QRectF(float(x0), float(y0), float(x1 - x0), float(y1 - y0)))
    return path


def outline_item(colour: str, width: float = 1.5, style: Qt.PenStyle = Qt.PenStyle.SolidLine,
                 z: float = 20) -> QGraphicsPathItem:
    """Return an empty path item drawn with a cosmetic pen (same width at any zoom)."""
    item = QGraphicsPathItem()
    pen = QPen(QColor(colour))
    pen.setCosmetic(True)
    pen.setWidthF(width)
    pen.setStyle(style)
    item.setPen(pen)
    item.setZValue(z)
    return item


def overlay_item(name: str, z: float = 20) -> QGraphicsPathItem:
    """Return an empty path item drawn as :data:`OVERLAYS` ``[name]`` says."""
    spec = OVERLAYS[name]
    return outline_item(spec.colour, spec.width, spec.style, z)


def crosshair_pen() -> QPen:
    """The pen of the crosshair lines of the three-plane layout (cosmetic, dashed cyan)."""
    spec = OVERLAYS["crosshair"]
    pen = QPen(QColor(spec.colour))
    pen.setCosmetic(True)
    pen.setWidthF(spec.width)
    pen.setStyle(spec.style)
    return pen


def hot_boxes(heat: np.ndarray, level: float, *, most: int = 8) -> list[Box]:
    """Return tight boxes around the regions of ``heat`` at or above ``level``, hottest first.

    Parameters
    ----------
    heat : ndarray, shape (y, x)
        A slice's relative heatmap (1.0 = the calibrated threshold); NaN counts as cold.
    level : float
        The relative level a pixel must reach.
    most : int
        At most this many boxes (the hottest regions): a noisy slice must not hide the image.
    """
    from scipy import ndimage

    hot = np.nan_to_num(np.asarray(heat, np.float32), nan=0.0) >= level
    if not hot.any():
        return []
    labels, n = ndimage.label(hot, structure=np.ones((3, 3), bool))  # 8-connected, like a spot looks
    peaks = ndimage.maximum(np.nan_to_num(heat), labels, index=np.arange(1, n + 1))
    order = np.argsort(-np.asarray(peaks, float))[:most]
    spans = ndimage.find_objects(labels)
    return [(spans[i][0].start, spans[i][1].start, spans[i][0].stop, spans[i][1].stop) for i in order]


def tile_boxes(tiles: Sequence[tuple[int, int]], size: int) -> list[Box]:
    """Return the boxes of tiles given by their top-left ``(y, x)`` corners."""
    return [(y, x, y + size, x + size) for y, x in tiles]


def percentile_levels(image: np.ndarray, low: float, high: float) -> tuple[float, float]:
    """Return the ``low``/``high`` percentiles of a (subsampled) ``(y, x)`` image."""
    step = max(1, int(np.sqrt(image.size / 65536)))  # ~64k samples are plenty
    sample = np.asarray(image[::step, ::step], dtype=np.float32)
    lo, hi = np.percentile(sample, [low, high])
    if hi <= lo:
        hi = lo + 1.0
    return float(lo), float(hi)


def set_config() -> None:
    """Set pyqtgraph's global options once, before any item is made."""
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)
