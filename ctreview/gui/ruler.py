"""A ruler for any plane view: drag a line, read its length in mm (it stays until cleared).

The view's coordinates are voxel indices (columns horizontal, rows
vertical); :meth:`Ruler.set_spacing` gives the mm per row and per column, so
a line in an anisotropic plane (XZ with thick slices) measures right.
"""
from __future__ import annotations

import math
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QLineF, QObject, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsLineItem

from ctreview.gui.overlays import OVERLAYS

COLOUR = OVERLAYS["ruler"].colour  # bright green: reads on grey, red and viridis alike


class Ruler(QObject):
    """A measuring line in one :class:`pyqtgraph.ViewBox`.

    Signals
    -------
    measured(float)
        A line was drawn (length in mm), or cleared (NaN).
    """

    measured = Signal(float)

    def __init__(self, viewbox: pg.ViewBox, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.viewbox = viewbox
        self.active = False
        self.row_mm = self.col_mm = 1.0
        self.length_mm = math.nan
        self._start: QPointF | None = None
        self.line = QGraphicsLineItem()
        pen = QPen(QColor(COLOUR))
        pen.setCosmetic(True)
        pen.setWidthF(2.0)
        self.line.setPen(pen)
        self.line.setZValue(40)
        self.label = pg.TextItem("", color=COLOUR, fill=pg.mkBrush(0, 0, 0, 170), anchor=(0, 1))
        self.label.setZValue(41)
        for item in (self.line, self.label):
            item.setVisible(False)
            viewbox.addItem(item, ignoreBounds=True)

    def set_spacing(self, row_mm: float, col_mm: float) -> None:
        """mm per row (vertical) and per column (horizontal) of the plane."""
        self.row_mm, self.col_mm = float(row_mm), float(col_mm)
        if self.line.isVisible():
            self._show(self.line.line())

    @property
    def text(self) -> str:
        """The readout, e.g. ``"2.35 mm"`` (empty when nothing is measured)."""
        return "" if math.isnan(self.length_mm) else f"{self.length_mm:.2f} mm"

    def length(self, row0: float, col0: float, row1: float, col1: float) -> float:
        """Length in mm of the line from ``(row0, col0)`` to ``(row1, col1)`` (view coordinates)."""
        return math.hypot((row1 - row0) * self.row_mm, (col1 - col0) * self.col_mm)

    def measure(self, row0: float, col0: float, row1: float, col1: float) -> float:
        """Draw the line between two points in view coordinates and return its length in mm."""
        self._show(QLineF(col0, row0, col1, row1))
        self.measured.emit(self.length_mm)
        return self.length_mm

    def drag(self, ev: Any) -> bool:
        """Handle a mouse drag of the view box; True when the ruler took it (left button, active)."""
        if not self.active or ev.button() != Qt.MouseButton.LeftButton:
            return False
        ev.accept()
        point = self.viewbox.mapSceneToView(ev.scenePos())
        if ev.isStart() or self._start is None:
            self._start = self.viewbox.mapSceneToView(ev.buttonDownScenePos())
        self._show(QLineF(self._start, point))
        if ev.isFinish():
            self._start = None
            self.measured.emit(self.length_mm)
        return True

    def clear(self) -> None:
        """Remove the line and its readout."""
        self.length_mm = math.nan
        self._start = None
        self.line.setVisible(False)
        self.label.setVisible(False)
        self.measured.emit(math.nan)

    def _show(self, line: QLineF) -> None:
        self.line.setLine(line)
        self.length_mm = self.length(line.y1(), line.x1(), line.y2(), line.x2())
        self.label.setText(self.text)
        self.label.setPos(line.p2())
        self.line.setVisible(True)
        self.label.setVisible(True)
