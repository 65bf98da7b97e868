"""The score-along-z plot of a report, drawn as vector graphics (reportlab.graphics)."""
from __future__ import annotations

import math

from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, String
from reportlab.lib import colors

SCORE_COLOUR = colors.HexColor("#1f4e9c")
THRESHOLD_COLOUR = colors.HexColor("#d62020")
AXIS_COLOUR = colors.HexColor("#444444")


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Return round tick values covering [lo, hi]."""
    span = hi - lo if hi > lo else 1.0
    raw = span / n
    step = 10 ** math.floor(math.log10(raw))
    step *= next(m for m in (1, 2, 2.5, 5, 10) if m * step >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def score_plot(rows: list[dict], threshold: float | None, flagged: set[int], *,
               n_slices: int, width: float, height: float, font: str = "Helvetica") -> Drawing:
    """Return a drawing of score against slice index.

    The score is a blue line, the model's threshold a dashed red line, and
    flagged slices red dots on the score line.

    Parameters
    ----------
    rows : list of dict
        Needs ``slice`` and ``score`` (None or non-finite values are skipped).
    threshold : float or None
        Calibration threshold of the model (raw score units).
    flagged : set of int
        Slice indices to mark.
    n_slices : int
        Length of the z axis.
    width, height : float
        Size of the drawing in points.
    """
    points = [(r["slice"], r["score"]) for r in rows
              if r["score"] is not None and math.isfinite(r["score"])]
    drawing = Drawing(width, height)
    left, bottom, right, top = 48, 28, width - 10, height - 10
    x_max = max(n_slices - 1, 1)
    y_values = [s for _, s in points] + ([threshold] if threshold else [])
    y_lo = min(0.0, *y_values) if y_values else 0.0
    y_hi = max(y_values) * 1.08 if y_values and max(y_values) > y_lo else y_lo + 1.0

    def to_xy(z: float, s: float) -> tuple[float, float]:
        return (left + (right - left) * z / x_max, bottom + (top - bottom) * (s - y_lo) / (y_hi - y_lo))

    _axes(drawing, (left, bottom, right, top), (x_max, y_lo, y_hi), to_xy, font)
    if len(points) > 1:
        flat = [c for z, s in points for c in to_xy(z, s)]
        drawing.add(PolyLine(flat, strokeColor=SCORE_COLOUR, strokeWidth=1.2))
    if threshold:
        (x0, y), (x1, _) = to_xy(0, threshold), to_xy(x_max, threshold)
        drawing.add(Line(x0, y, x1, y, strokeColor=THRESHOLD_COLOUR, strokeWidth=1,
                         strokeDashArray=[4, 3]))
        drawing.add(String(x1 - 2, y + 3, "threshold", fontName=font, fontSize=7,
                           fillColor=THRESHOLD_COLOUR, textAnchor="end"))
    for z, s in points:
        if z in flagged or len(points) == 1:
            x, y = to_xy(z, s)
            colour = THRESHOLD_COLOUR if z in flagged else SCORE_COLOUR
            drawing.add(Circle(x, y, 2.6, fillColor=colour, strokeColor=colour))
    return drawing


def _axes(drawing: Drawing, frame: tuple, ranges: tuple, to_xy, font: str) -> None:
    left, bottom, right, top = frame
    x_max, y_lo, y_hi = ranges
    drawing.add(Line(left, bottom, right, bottom, strokeColor=AXIS_COLOUR))
    drawing.add(Line(left, bottom, left, top, strokeColor=AXIS_COLOUR))
    for z in _ticks(0, x_max):
        if z == int(z):
            x, _ = to_xy(z, y_lo)
            drawing.add(Line(x, bottom, x, bottom - 3, strokeColor=AXIS_COLOUR))
            drawing.add(String(x, bottom - 12, f"{int(z)}", fontName=font, fontSize=7,
                               textAnchor="middle"))
    for s in _ticks(y_lo, y_hi):
        _, y = to_xy(0, s)
        drawing.add(Line(left - 3, y, left, y, strokeColor=AXIS_COLOUR))
        drawing.add(String(left - 5, y - 2.5, f"{s:g}", fontName=font, fontSize=7,
                           textAnchor="end"))
    drawing.add(String((left + right) / 2, 2, "slice (z)", fontName=font, fontSize=8,
                       textAnchor="middle"))
    drawing.add(String(left + 4, top - 6, "score", fontName=font, fontSize=8,
                       textAnchor="start"))
