"""The slice view: grey slice with window/level, red heatmap and box overlays.

Built from pyqtgraph items (an :class:`ImageItem` for the slice, a second one
for the heatmap, a :class:`HistogramLUTItem` for window/level) in one
:class:`ViewBox`. Mouse: wheel = next/previous slice, Ctrl+wheel = zoom,
left drag = pan (or measure, with the ruler on), left click = move the
crosshair of the three-plane layout, right drag = window (left/right) and
level (up/down). The pixel aspect follows the volume's spacing.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QStackedWidget, QVBoxLayout, QWidget

from ctreview.gui import overlays
from ctreview.gui.ruler import Ruler
from ctreview.gui.session import ReviewSession

PRESETS = {  # name: (low, high) percentile of the slice, None = the volume's full range
    "Auto (1-99 %)": (1.0, 99.0),
    "Wide (0.1-99.9 %)": (0.1, 99.9),
    "Narrow (5-95 %)": (5.0, 95.0),
    "Full range": None,
}


class SliceViewBox(pg.ViewBox):
    """A ViewBox whose wheel steps through slices and whose right drag sets window/level.

    ``drag_tool`` (the ruler's ``drag``) may take left drags; a left click
    emits ``clicked(row, column)`` in view coordinates.
    """

    wheel_step = Signal(int)
    window_drag = Signal(float, float)
    clicked = Signal(float, float)
    drag_tool: Callable[[Any], bool] | None = None

    def mouseClickEvent(self, ev: Any) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            point = self.mapSceneToView(ev.scenePos())
            self.clicked.emit(point.y(), point.x())
            return
        super().mouseClickEvent(ev)

    def wheelEvent(self, ev: Any, axis: Any = None) -> None:
        if ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
            super().wheelEvent(ev, axis)
            return
        ev.accept()
        self.wheel_step.emit(-1 if ev.delta() > 0 else 1)

    def mouseDragEvent(self, ev: Any, axis: Any = None) -> None:
        if ev.button() == Qt.MouseButton.RightButton:
            ev.accept()
            delta = ev.pos() - ev.lastPos()
            self.window_drag.emit(delta.x(), delta.y())
            return
        if self.drag_tool is not None and self.drag_tool(ev):
            return
        super().mouseDragEvent(ev, axis)


class SliceView(QWidget):
    """Shows the session's current slice with its overlays.

    Signals
    -------
    levels_changed(float, float, bool)
        ``(low, high, manual)``: the grey window; ``manual`` when the analyst
        set it (right drag, the histogram, :meth:`set_window`), not a preset.

    Attributes
    ----------
    heat_opacity : float
        Opacity of the heatmap layer, 0..1.
    heat_threshold : float
        Fraction of the heatmap scale below which the heatmap is transparent.
    """

    levels_changed = Signal(float, float, bool)

    def __init__(self, session: ReviewSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._setting_levels = False
        self.heat_opacity, self.heat_threshold = 0.7, 0.3
        self.show_heatmap = self.show_outline = self.show_boxes = True
        self.show_tiles = self.show_expected = False
        self.heat_cmap = "red"
        self.preset = next(iter(PRESETS))
        self._heat_scale = 0.0
        self._image: np.ndarray | None = None
        self._build()
        session.volume_changed.connect(self._on_volume)
        session.current_changed.connect(self.refresh)
        session.scores_changed.connect(self._on_scores)
        session.scores_reset.connect(self._on_reset)
        session.roi_changed.connect(self.fit)  # the part, not the air around it
        session.maps_changed.connect(self.refresh)  # another scorer's map shown
        session.threshold_changed.connect(self.refresh)  # the hot-spot boxes follow the threshold

    def _build(self) -> None:
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setBackground("#1e1e1e")
        self.viewbox = SliceViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.canvas.addItem(self.viewbox, row=0, col=0)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.heat_item = pg.ImageItem(axisOrder="row-major")
        self.heat_item.setZValue(10)
        self.viewbox.addItem(self.image_item)
        self.viewbox.addItem(self.heat_item)
        self.histogram = pg.HistogramLUTItem(image=self.image_item)
        self.histogram.setMaximumWidth(110)
        self.canvas.addItem(self.histogram, row=0, col=1)
        self.outline = overlays.overlay_item("outline")
        self.roi_boxes = overlays.overlay_item("boxes")
        self.tiles = overlays.overlay_item("tiles")
        self.hot_boxes = overlays.overlay_item("hot", z=30)
        self.hot_spots: list[overlays.Box] = []
        for item in (self.outline, self.roi_boxes, self.tiles, self.hot_boxes):
            self.viewbox.addItem(item)
        self.crosshair = [pg.InfiniteLine(angle=a, movable=False, pen=overlays.crosshair_pen()) for a in (0, 90)]
        for line in self.crosshair:
            line.setZValue(35)
            line.setVisible(False)
            self.viewbox.addItem(line, ignoreBounds=True)
        self.ruler = Ruler(self.viewbox, self)
        self.viewbox.drag_tool = self.ruler.drag
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setEnabled(False)
        self.slider.valueChanged.connect(self.session.set_current)
        self.slice_label = QLabel("no volume")
        self.slice_label.setMinimumWidth(110)
        self.readout = QLabel(" ")
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout()
        row.addWidget(self.slice_label)
        row.addWidget(self.slider, 1)
        self.hint = QLabel("Open a CT volume: File ▸ Open (Ctrl+O), drop a file here,\n"
                           "or run 'ctreview demo' for a simulated part.\n\nF1 lists every key.")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setStyleSheet("QLabel { background: #1e1e1e; color: #b0b0b0; font-size: 15px; }")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.hint)
        self.stack.addWidget(self.canvas)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack, 1)
        layout.addLayout(row)
        layout.addWidget(self.readout)
        self.viewbox.wheel_step.connect(lambda step: self.session.set_current(self.session.current + step))
        self.viewbox.window_drag.connect(self.drag_window)
        self.canvas.scene().sigMouseMoved.connect(self._on_mouse)
        self.histogram.sigLevelsChanged.connect(self._histogram_levels)
        self.set_heat_threshold(self.heat_threshold)

    # -- session events -----------------------------------------------------
    def _on_volume(self) -> None:
        volume = self.session.volume
        self._heat_scale = 0.0
        self._image = None
        self.readout.setText(" ")  # the cursor readout belonged to the previous volume
        if volume is None:
            self.slider.setEnabled(False)
            self.stack.setCurrentWidget(self.hint)
            return
        self.stack.setCurrentWidget(self.canvas)
        _, sy, sx = volume.spacing
        self.viewbox.setAspectLocked(True, ratio=sx / sy)  # a pixel as wide and tall as its voxel
        self.ruler.set_spacing(sy, sx)
        self.slider.blockSignals(True)
        self.slider.setRange(0, len(volume) - 1)
        self.slider.setValue(self.session.current)
        self.slider.blockSignals(False)
        self.slider.setEnabled(len(volume) > 1)
        self.refresh()
        self.apply_preset(self.preset)
        self.fit()

    def _on_reset(self) -> None:
        self._heat_scale = 0.0  # a new run has its own scale
        self.refresh()

    def _on_scores(self, changed: list[int]) -> None:
        scores = self.session.scores
        self._heat_scale = max([self._heat_scale] + [scores[k].heat_max for k in changed if k in scores])
        if self.session.current in changed:
            self.refresh()

    # -- drawing ------------------------------------------------------------
    def refresh(self, *_: Any) -> None:
        """Redraw the current slice and its overlays."""
        volume, k = self.session.volume, self.session.current
        if volume is None:
            return
        self._image = volume.slice(k)
        shown, note = self._image, ""
        if self.show_expected:
            shown, note = expected_view(self._image, self.session.expected(k))
        levels = self.image_item.getLevels() if self.image_item.image is not None else None
        self.image_item.setImage(shown, autoLevels=levels is None, levels=levels)
        if self.slider.value() != k:
            self.slider.blockSignals(True)
            self.slider.setValue(k)
            self.slider.blockSignals(False)
        self.slice_label.setText(f"z {k} / {len(volume) - 1}{note}")
        self._draw_heatmap(k)
        self._draw_boxes(k)

    def _draw_heatmap(self, k: int) -> None:
        heat = self.session.heatmap(k) if self.show_heatmap else None
        self._draw_hot_spots(heat)
        if heat is None:
            self.heat_item.clear()
            self.heat_item.setVisible(False)
            return
        heat = np.asarray(heat, dtype=np.float32)
        scale = max(self._heat_scale, float(heat.max()), 1e-6)
        self._heat_scale = scale
        self.heat_item.setImage(heat, levels=(0.0, scale), lut=overlays.heat_lut(self.heat_threshold,
                                                                                  cmap=self.heat_cmap))
        self.heat_item.setOpacity(self.heat_opacity)
        self.heat_item.setVisible(True)

    def _draw_boxes(self, k: int) -> None:
        roi, score = self.session.roi, self.session.scores.get(k)
        part = getattr(roi, "part_bbox", None)
        inside = part is not None and part[0] <= k < part[3]
        self.outline.setPath(overlays.boxes_path(
            [(part[1], part[2], part[4], part[5])] if part is not None and inside and self.show_outline else []))
        slice_roi = roi.slices.get(k) if roi is not None else None
        boxes = score.boxes if score is not None else (slice_roi.boxes if slice_roi else [])
        self.roi_boxes.setPath(overlays.boxes_path(boxes if self.show_boxes else []))
        tiles = overlays.tile_boxes(slice_roi.tiles, roi.tile_size) if slice_roi and self.show_tiles else []
        self.tiles.setPath(overlays.boxes_path(tiles))

    def _draw_hot_spots(self, heat: np.ndarray | None) -> None:
        """Red boxes tight around the slice's above-threshold regions; none without the heatmap."""
        level = float(getattr(self.session, "threshold", 1.0))
        self.hot_spots = overlays.hot_boxes(heat, level) if heat is not None else []
        self.hot_boxes.setPath(overlays.boxes_path(self.hot_spots))

    # -- window / level -----------------------------------------------------
    def apply_preset(self, name: str) -> None:
        """Set window/level from a preset of :data:`PRESETS`."""
        self.preset = name
        if self._image is None:
            return
        bounds = PRESETS[name]
        if bounds is None:
            lo, hi = self.session.value_range or (float(self._image.min()), float(self._image.max()))
        else:
            lo, hi = overlays.percentile_levels(self._image, *bounds)
        self.set_levels(lo, max(hi, lo + 1e-6))

    def set_levels(self, lo: float, hi: float, *, manual: bool = False) -> None:
        self._setting_levels = True
        try:
            self.image_item.setLevels((lo, hi))
            self.histogram.setLevels(lo, hi)
        finally:
            self._setting_levels = False
        self.levels_changed.emit(float(lo), float(hi), manual)

    def set_window(self, width: float, level: float) -> None:
        """Set the grey window numerically: ``width`` around the centre ``level`` (a manual change)."""
        width = max(float(width), 1e-6)
        self.set_levels(level - width / 2, level + width / 2, manual=True)

    def _histogram_levels(self, *_: Any) -> None:
        if not self._setting_levels:  # the analyst dragged the histogram's region
            lo, hi = self.levels()
            self.levels_changed.emit(lo, hi, True)

    def levels(self) -> tuple[float, float]:
        lo, hi = self.image_item.getLevels()
        return float(lo), float(hi)

    def drag_window(self, dx: float, dy: float) -> None:
        """Change window (``dx``) and level (``dy``) by a mouse drag of that many pixels."""
        lo, hi = self.levels()
        width, centre = hi - lo, (hi + lo) / 2
        step = max(width, 1e-6) / 200.0  # 200 pixels of drag = the current width
        width = max(width + dx * step, 1e-6)
        centre -= dy * step
        self.set_levels(centre - width / 2, centre + width / 2, manual=True)

    # -- heatmap and overlay options ----------------------------------------
    def set_heat_opacity(self, value: float) -> None:
        self.heat_opacity = float(value)
        self.heat_item.setOpacity(self.heat_opacity)

    def set_heat_threshold(self, value: float) -> None:
        self.heat_threshold = float(value)
        if self.heat_item.image is not None:
            self.heat_item.setLookupTable(overlays.heat_lut(self.heat_threshold, cmap=self.heat_cmap))

    def set_heat_cmap(self, name: str) -> None:
        """Colour the heatmap with one of :data:`overlays.HEAT_MAPS`."""
        self.heat_cmap = name if name in overlays.HEAT_MAPS else "red"
        self.set_heat_threshold(self.heat_threshold)

    @property
    def heat_scale(self) -> float:
        """The heatmap value drawn at full colour (the run's highest so far)."""
        return self._heat_scale

    def set_crosshair(self, y: float, x: float, visible: bool = True) -> None:
        """Draw the crosshair of the three-plane layout through row ``y`` and column ``x``."""
        self.crosshair[0].setPos(y + 0.5)
        self.crosshair[1].setPos(x + 0.5)
        for line in self.crosshair:
            line.setVisible(visible)

    def centre_on(self, y: float, x: float, height: float = 0.0, width: float = 0.0) -> None:
        """Pan to put ``(y, x)`` in the middle, zooming out only if a box of that size would not fit."""
        (x0, x1), (y0, y1) = self.viewbox.viewRange()
        half_w = max((x1 - x0) / 2, width * 0.75)
        half_h = max((y1 - y0) / 2, height * 0.75)
        self.viewbox.setRange(xRange=(x - half_w, x + half_w), yRange=(y - half_h, y + half_h), padding=0)

    def set_layer(self, name: str, visible: bool) -> None:
        """Toggle ``"heatmap"``, ``"outline"``, ``"boxes"``, ``"tiles"`` or ``"expected"`` (the slice shown)."""
        setattr(self, f"show_{name}", bool(visible))
        if name == "expected":
            self.refresh()
        elif self.session.volume is not None:
            self._draw_heatmap(self.session.current)
            self._draw_boxes(self.session.current)

    def fit(self) -> None:
        """Zoom to the part (its outline, once found) or else the whole slice."""
        if self._image is None:
            return
        part = getattr(self.session.roi, "part_bbox", None)
        if part is None:
            self.viewbox.autoRange(padding=0.02)
            return
        _, y0, x0, _, y1, x1 = part
        margin = 0.08 * max(y1 - y0, x1 - x0)
        self.viewbox.setRange(xRange=(x0 - margin, x1 + margin), yRange=(y0 - margin, y1 + margin),
                              padding=0)

    # -- cursor readout -----------------------------------------------------
    def _on_mouse(self, pos: QPointF) -> None:
        if self._image is None or not self.viewbox.sceneBoundingRect().contains(pos):
            return
        point = self.viewbox.mapSceneToView(pos)
        self.readout.setText(self.describe(point.y(), point.x()))

    def describe(self, y: float, x: float) -> str:
        """Return the readout text for view position ``(y, x)`` on the current slice."""
        image, volume, k = self._image, self.session.volume, self.session.current
        iy, ix = int(math.floor(y)), int(math.floor(x))
        if image is None or not (0 <= iy < image.shape[0] and 0 <= ix < image.shape[1]):
            return " "
        sz, sy, sx = volume.spacing
        oz, oy, ox = volume.origin
        text = (f"z {k}  y {iy}  x {ix}   |   {oz + k * sz:.2f}, {oy + iy * sy:.2f}, "
                f"{ox + ix * sx:.2f} mm   |   value {image[iy, ix]:.6g}")
        heat = self.session.heatmap(k)
        if heat is not None:
            text += f"   |   heat {float(heat[iy, ix]):.3g}"
        return text


def expected_view(image: np.ndarray, expected: np.ndarray | None) -> tuple[np.ndarray, str]:
    """The slice with the model's expected part in place of the scan's, and the label's note.

    ``expected`` is 0 outside the ROI, where the scan itself is shown.
    """
    if expected is None or expected.shape != image.shape:
        return image, "  ·  expected: none for this slice"
    return np.where(expected != 0, expected, image).astype(np.float32), "  ·  EXPECTED"
