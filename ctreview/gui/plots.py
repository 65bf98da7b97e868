"""Score plots: relative score along z, and the histogram of slice scores.

Both plot the relative score (``score / model threshold``, so 1.0 is the
model's own calibration). Clicking the z plot jumps to the nearest scored
slice; dragging the threshold line (in either plot) sets the session's
threshold, which the list's "above threshold" filter follows.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QWidget

from ctreview.gui.session import ReviewSession

_STATUS_BRUSH = {"flag": "#e53935", "accept": "#43a047", "unsure": "#fb8c00", "": "#90caf9"}


def _plot(title: str, x_label: str, y_label: str) -> pg.PlotWidget:
    widget = pg.PlotWidget(background="#1e1e1e")
    item = widget.getPlotItem()
    item.setTitle(title, size="9pt")
    item.setLabel("bottom", x_label)
    item.setLabel("left", y_label)
    item.showGrid(x=True, y=True, alpha=0.2)
    item.setMenuEnabled(False)
    for side in ("left", "bottom"):
        item.getAxis(side).enableAutoSIPrefix(False)  # "(x0.001)" on counts confuses
    widget.setMinimumHeight(140)
    return widget


class ScorePlots(QWidget):
    """The z plot and the histogram, side by side."""

    cursor: pg.InfiniteLine  # shadows a QWidget getter; GUI tests and key bindings use the name

    def __init__(self, session: ReviewSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.z_plot = _plot("Score along z (click to jump)", "slice z", "relative score")
        self.hist_plot = _plot("Slice scores (drag the threshold)", "relative score", "slices")
        self.curve = self.z_plot.plot([], [], pen=pg.mkPen("#64b5f6", width=1))
        self.points = pg.ScatterPlotItem(size=6, pen=None)
        self.z_plot.addItem(self.points)
        self.cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#ffffff", width=1))
        self.z_threshold = pg.InfiniteLine(angle=0, movable=True, pen=pg.mkPen("#ff5252", width=2))
        self.hist_threshold = pg.InfiniteLine(angle=90, movable=True, pen=pg.mkPen("#ff5252", width=2))
        self.z_plot.addItem(self.cursor)
        self.z_plot.addItem(self.z_threshold)
        self.bars = pg.PlotDataItem([0, 1], [0], stepMode="center", fillLevel=0,
                                    brush=pg.mkBrush(100, 181, 246, 160), pen=pg.mkPen("#64b5f6"))
        self.hist_plot.addItem(self.bars)
        self.hist_plot.addItem(self.hist_threshold)
        for line in (self.z_threshold, self.hist_threshold):
            line.setValue(session.threshold)
            line.sigPositionChanged.connect(self._line_moved)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.z_plot, 3)
        layout.addWidget(self.hist_plot, 2)
        self.z_plot.scene().sigMouseClicked.connect(self._clicked)
        # streamed batches only mark the plots stale; one redraw per 200 ms at most
        self._timer = QTimer(self, singleShot=True, interval=200)
        self._timer.timeout.connect(self.redraw)
        session.scores_changed.connect(self._schedule)
        session.scores_reset.connect(self.redraw)
        session.volume_changed.connect(self.redraw)
        session.decision_changed.connect(self._schedule)
        session.current_changed.connect(lambda k: self.cursor.setValue(k))
        session.threshold_changed.connect(self._threshold_changed)

    def _schedule(self, *_: Any) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def redraw(self) -> None:
        """Redraw both plots from the session's scores."""
        scores = self.session.scores
        z = np.array(sorted(scores), dtype=float)
        rel = np.array([scores[int(k)].relative for k in z], dtype=float)
        self.curve.setData(z, rel)
        brushes = [pg.mkBrush(_STATUS_BRUSH.get(self.session.status(int(k)), "#90caf9")) for k in z]
        self.points.setData(x=z, y=rel, brush=brushes, data=z.astype(int))
        if len(rel):
            top = max(float(rel.max()), self.session.threshold) * 1.05
            counts, edges = np.histogram(rel, bins=min(40, max(8, len(rel) // 4)), range=(0.0, top))
            self.bars.setData(edges, counts)
            self.z_plot.enableAutoRange(axis="y")
            self.hist_plot.enableAutoRange()
        else:  # nothing scored yet: calm, fixed axes instead of autoscaled noise
            self.bars.setData([0, 1], [0])
            self.hist_plot.setRange(xRange=(0, 2), yRange=(0, 10), padding=0)
            self.z_plot.setYRange(0, 2, padding=0)
        n = len(self.session.volume) if self.session.volume is not None else 10
        self.z_plot.setXRange(0, max(n - 1, 1), padding=0.02)
        self.cursor.setValue(self.session.current)

    def _clicked(self, event: Any) -> None:
        view = self.z_plot.getPlotItem().vb
        if not view.sceneBoundingRect().contains(event.scenePos()) or not self.session.scores:
            return
        x = view.mapSceneToView(event.scenePos()).x()
        scored = np.array(sorted(self.session.scores))
        self.jump_to_x(x, scored)

    def jump_to_x(self, x: float, scored: np.ndarray | None = None) -> int:
        """Jump to the scored slice nearest to plot position ``x``; return it."""
        if scored is None:
            scored = np.array(sorted(self.session.scores))
        k = int(scored[np.argmin(np.abs(scored - x))])
        self.session.set_current(k)
        return k

    def _line_moved(self, line: pg.InfiniteLine) -> None:
        self.session.set_threshold(max(float(line.value()), 0.0))

    def _threshold_changed(self, value: float) -> None:
        for line in (self.z_threshold, self.hist_threshold):
            if abs(line.value() - value) > 1e-9:
                line.blockSignals(True)
                line.setValue(value)
                line.blockSignals(False)
