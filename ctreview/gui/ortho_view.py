"""The orthogonal planes beside the axial view: XZ and YZ through a linked crosshair.

A :class:`PlaneCursor` holds the crosshair's row ``y`` and column ``x`` (its
``z`` is the session's current slice); the axial view and the two planes
draw it and move it on a click. A plane touches every slice, so
:class:`OrthoView` reads planes in a worker (``plane_task``), a few slices at
a time, from a cache of slices already read; the heatmap planes come from
the run's cached heatmaps in the workspace. Pixels are as tall as their
voxels are thick: the planes' aspect follows ``volume.spacing``.
"""
from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ctreview.gui import overlays
from ctreview.gui.ruler import Ruler
from ctreview.gui.session import ReviewSession
from ctreview.gui.slice_view import SliceViewBox
from ctreview.workers.tasks import PlaneRows, SliceCache, plane_task

HEAT_REFRESH_MS = 1500
"""While a run streams, the heatmap planes are read again at most this often."""


class PlaneCursor(QObject):
    """The crosshair's row and column on the axial slice.

    Signals
    -------
    moved(int, int)
        ``(y, x)`` changed.
    """

    moved = Signal(int, int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.y = self.x = 0
        self.shape = (0, 0)

    def reset(self, ny: int, nx: int) -> None:
        """A new volume: the crosshair goes to the middle of its slices."""
        self.shape = (int(ny), int(nx))
        self.set(ny // 2, nx // 2, force=True)

    def set(self, y: float, x: float, *, force: bool = False) -> None:
        ny, nx = self.shape
        y = int(np.clip(int(y), 0, max(ny - 1, 0)))
        x = int(np.clip(int(x), 0, max(nx - 1, 0)))
        if force or (y, x) != (self.y, self.x):
            self.y, self.x = y, x
            self.moved.emit(y, x)


class PlaneView(QWidget):
    """One plane with rows along z: the image, its heatmap, a crosshair and a ruler.

    Signals
    -------
    clicked(float, float)
        ``(z, column)`` of a left click.
    wheel_step(int), window_drag(float, float)
        As the axial view's box: the window moves the plane, or window/level.
    """

    clicked = Signal(float, float)
    wheel_step = Signal(int)
    window_drag = Signal(float, float)

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel(title)
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setBackground("#1e1e1e")
        self.viewbox = SliceViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.canvas.addItem(self.viewbox)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.heat_item = pg.ImageItem(axisOrder="row-major")
        self.heat_item.setZValue(10)
        self.viewbox.addItem(self.image_item)
        self.viewbox.addItem(self.heat_item)
        self.cross = [pg.InfiniteLine(angle=a, movable=False, pen=overlays.crosshair_pen()) for a in (0, 90)]
        for line in self.cross:
            line.setZValue(35)
            self.viewbox.addItem(line, ignoreBounds=True)
        self.ruler = Ruler(self.viewbox, self)
        self.viewbox.drag_tool = self.ruler.drag
        self.viewbox.clicked.connect(self.clicked.emit)
        self.viewbox.wheel_step.connect(self.wheel_step.emit)
        self.viewbox.window_drag.connect(self.window_drag.emit)
        self.image = np.zeros((0, 0), np.float32)
        self.heat = np.zeros((0, 0), np.float32)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(1)
        layout.addWidget(self.title)
        layout.addWidget(self.canvas, 1)

    def reset(self, rows: int, cols: int, dtype: Any, row_mm: float, col_mm: float) -> None:
        """An empty ``rows x cols`` plane with ``row_mm`` by ``col_mm`` pixels."""
        self.image = np.zeros((rows, cols), dtype)
        self.heat = np.zeros((rows, cols), np.float32)
        self.viewbox.setAspectLocked(True, ratio=col_mm / row_mm)
        self.ruler.set_spacing(row_mm, col_mm)
        self.image_item.setImage(self.image, autoLevels=False)
        self.heat_item.clear()
        self.viewbox.autoRange(padding=0.02)

    def put(self, z0: int, image: np.ndarray | None, heat: np.ndarray | None) -> None:
        """Fill rows ``z0:z0+n`` of the image and/or the heatmap (drawn by :meth:`redraw`)."""
        if image is not None:
            self.image[z0:z0 + len(image)] = image
        if heat is not None:
            self.heat[z0:z0 + len(heat)] = heat

    def redraw(self, levels: tuple[float, float], heat_scale: float, lut: np.ndarray | None,
               opacity: float) -> None:
        self.image_item.setImage(self.image, autoLevels=False, levels=levels)
        if lut is None or heat_scale <= 0 or not self.heat.any():
            self.heat_item.setVisible(False)
            return
        self.heat_item.setImage(self.heat, levels=(0.0, heat_scale), lut=lut)
        self.heat_item.setOpacity(opacity)
        self.heat_item.setVisible(True)

    def set_cross(self, z: float, col: float) -> None:
        self.cross[0].setPos(z + 0.5)
        self.cross[1].setPos(col + 0.5)


class OrthoView(QWidget):
    """XZ (top) and YZ (bottom) planes through the crosshair, read off the UI thread.

    Parameters
    ----------
    session : ReviewSession
    cursor : PlaneCursor
    runner : TaskRunner
        Runs the plane reads (tasks ``"planes"`` and ``"plane_heat"``).
    """

    cursor: PlaneCursor  # type: ignore[assignment]  # shadows a QWidget getter; GUI tests and key bindings use the name

    def __init__(self, session: ReviewSession, cursor: PlaneCursor, runner: Any,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session, self.cursor, self.runner = session, cursor, runner
        self.levels = (0.0, 1.0)
        self.heat_threshold, self.heat_opacity, self.heat_cmap, self.show_heatmap = 0.3, 0.7, "red", True
        self.show_expected = False
        self._cache: SliceCache | None = None
        self._stale = self._heat_stale = False
        self._dirty: set[int] = set()  # slices whose heatmap changed since the planes were read
        self.xz = PlaneView("XZ")
        self.yz = PlaneView("YZ")
        self.status = QLabel(" ")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.xz, 1)
        layout.addWidget(self.yz, 1)
        layout.addWidget(self.status)
        self._heat_timer = QTimer(self, singleShot=True, interval=HEAT_REFRESH_MS)
        self._heat_timer.timeout.connect(lambda: self.read(heat_only=True))
        self.xz.clicked.connect(lambda z, x: self._clicked(z, self.cursor.y, x))
        self.yz.clicked.connect(lambda z, y: self._clicked(z, y, self.cursor.x))
        self.xz.wheel_step.connect(lambda step: self.cursor.set(self.cursor.y + step, self.cursor.x))
        self.yz.wheel_step.connect(lambda step: self.cursor.set(self.cursor.y, self.cursor.x + step))
        session.volume_changed.connect(self._on_volume)
        session.current_changed.connect(self._on_slice)
        session.scores_changed.connect(self._heat_changed)
        session.scores_reset.connect(self._heat_reset)
        cursor.moved.connect(lambda _y, _x: self.read())

    @property
    def planes(self) -> tuple[PlaneView, PlaneView]:
        return (self.xz, self.yz)

    # -- session and cursor ---------------------------------------------------
    def _on_volume(self) -> None:
        volume = self.session.volume
        self.runner.cancel("planes")
        self.runner.cancel("plane_heat")
        self._cache = SliceCache(volume) if volume is not None else None
        if volume is None:
            return
        nz, ny, nx = volume.shape
        sz, sy, sx = volume.spacing
        self.xz.reset(nz, nx, volume.dtype, sz, sx)
        self.yz.reset(nz, ny, volume.dtype, sz, sy)
        self.cursor.reset(ny, nx)  # reads the planes

    def _on_slice(self, k: int) -> None:
        self.xz.set_cross(k, self.cursor.x)
        self.yz.set_cross(k, self.cursor.y)

    def _clicked(self, z: float, y: float, x: float) -> None:
        self.session.set_current(int(np.floor(z)))
        self.cursor.set(np.floor(y), np.floor(x))

    def _heat_changed(self, changed: list[int]) -> None:
        self._dirty.update(changed)
        if not self.isVisible():
            self._heat_stale = True
        elif not self._heat_timer.isActive():
            self._heat_timer.start()

    def _heat_reset(self) -> None:
        """Another run (or none): every heatmap row is read again."""
        for plane in self.planes:
            plane.heat[:] = 0
        self._dirty.clear()
        self._stale = True
        if self.isVisible():
            self.read()

    # -- reading ----------------------------------------------------------------
    def read(self, heat_only: bool = False) -> None:
        """Read the planes through the crosshair (only the heatmap planes with ``heat_only``)."""
        volume = self.session.volume
        if volume is None or self._cache is None:
            return
        if not self.isVisible():  # read when shown
            self._stale = self._stale or not heat_only
            self._heat_stale = True
            return
        y, x = self.cursor.y, self.cursor.x
        self.xz.title.setText(f"XZ plane at y = {y}")
        self.yz.title.setText(f"YZ plane at x = {x}")
        self._on_slice(self.session.current)
        heat = self._heat_source()
        if heat_only and (heat is None or not self._dirty):
            return
        only = sorted(self._dirty) if heat_only else None
        if not heat_only:
            self._stale = False
            self.status.setText("reading the planes…")
        self._heat_stale = False
        self._dirty.clear()
        expected = self._expected_source() if self.show_expected and not heat_only else None
        self.runner.start("plane_heat" if heat_only else "planes", plane_task,
                          None if heat_only else self._cache, volume.shape, y, x, heat, slices=only,
                          expected=expected, on_yield=self._on_rows, on_return=lambda _r: self._read_done(heat_only))

    def _heat_source(self) -> Any:
        session = self.session
        if session.workspace is None or session.run_id is None or not session.scores:
            return None
        return partial(session.workspace.heatmap, session.run_id)

    def _expected_source(self) -> Any:
        # from the workspace's files, as the heat: the worker must not touch the session's caches
        session = self.session
        if session.workspace is None or session.run_id is None or not session.scores:
            return None
        return partial(session.workspace.expected, session.run_id)

    def _on_rows(self, rows: PlaneRows) -> None:
        if (rows.y, rows.x) != (self.cursor.y, self.cursor.x):
            return  # an older read: the crosshair moved on
        self.xz.put(rows.z0, rows.xz, rows.heat_xz)
        self.yz.put(rows.z0, rows.yz, rows.heat_yz)
        self.redraw()

    def _read_done(self, heat_only: bool) -> None:
        if not heat_only:
            self.status.setText("click a plane to move the crosshair; wheel: move this plane")

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self._stale:
            self.read()
        elif self._heat_stale:
            self.read(heat_only=True)

    # -- display ------------------------------------------------------------------
    def heat_scale(self) -> float:
        return max((s.heat_max for s in self.session.scores.values()), default=0.0)

    def redraw(self) -> None:
        lut = overlays.heat_lut(self.heat_threshold, cmap=self.heat_cmap) if self.show_heatmap else None
        for plane in self.planes:
            plane.redraw(self.levels, self.heat_scale(), lut, self.heat_opacity)

    def set_expected(self, on: bool) -> None:
        """Show the slices the model expected in place of the scan where it drew them (E), or the scan."""
        if bool(on) != self.show_expected:
            self.show_expected = bool(on)
            self.read()

    def set_levels(self, lo: float, hi: float) -> None:
        self.levels = (float(lo), float(hi))
        for plane in self.planes:
            plane.image_item.setLevels(self.levels)

    def set_heat_style(self, *, threshold: float | None = None, opacity: float | None = None,
                       cmap: str | None = None, visible: bool | None = None) -> None:
        """Follow the axial view's heatmap options."""
        if threshold is not None:
            self.heat_threshold = float(threshold)
        if opacity is not None:
            self.heat_opacity = float(opacity)
        if cmap is not None:
            self.heat_cmap = cmap
        if visible is not None:
            self.show_heatmap = bool(visible)
        self.redraw()

    def fit(self) -> None:
        for plane in self.planes:
            plane.viewbox.autoRange(padding=0.02)


def link_axial(view: Any, cursor: PlaneCursor, shown: Any) -> Any:
    """Draw the crosshair on the axial ``view`` (while ``shown()``) and move it on a click there.

    Returns the function that redraws it (call it when the layout changes).
    """
    def draw(*_: Any) -> None:
        view.set_crosshair(cursor.y, cursor.x, visible=bool(shown()))

    def clicked(y: float, x: float) -> None:
        if shown():
            cursor.set(np.floor(y), np.floor(x))

    cursor.moved.connect(draw)
    view.viewbox.clicked.connect(clicked)
    return draw
