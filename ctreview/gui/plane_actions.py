"""The window's three-plane layout, ruler and heatmap colours: building and switching them.

The layout (axial only, or axial with XZ and YZ planes beside it), the heatmap
colour map and its opacity are remembered per user (QSettings).
"""
from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QObject, QSettings, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QLabel, QSlider, QSplitter, QStatusBar, QToolBar

from ctreview.gui import overlays
from ctreview.gui.ortho_view import OrthoView, PlaneCursor, link_axial
from ctreview.gui.session import ReviewSession
from ctreview.gui.slice_view import SliceView
from ctreview.workers import TaskRunner


class PlaneActions:
    """The axial view with the orthogonal planes beside it, their ruler, map and colour map.

    Parameters
    ----------
    session, runner, view, status_bar, settings
        The window's parts this uses.
    parent : QObject
        Owner of the crosshair and the QActions.
    """

    def __init__(self, session: ReviewSession, runner: TaskRunner, view: SliceView, status_bar: QStatusBar,
                 settings: QSettings, parent: QObject) -> None:
        self.session, self.view, self.status_bar, self.settings = session, view, status_bar, settings
        self.cursor = PlaneCursor(parent)
        self.ortho = OrthoView(session, self.cursor, runner)
        self.ortho.setVisible(False)
        self._draw_crosshair = link_axial(view, self.cursor, self.ortho.isVisible)
        view.histogram.sigLevelsChanged.connect(lambda *_: self.ortho.set_levels(*view.levels()))
        for plane in self.ortho.planes:
            plane.window_drag.connect(view.drag_window)
            plane.ruler.measured.connect(self._measured)
        view.ruler.measured.connect(self._measured)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(view)
        self.splitter.addWidget(self.ortho)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self._build_actions(parent)
        self.map_box = self._map_box()
        self.cmap_box = QComboBox()
        self.cmap_box.addItems(list(overlays.HEAT_MAPS))
        self.cmap_box.setToolTip("Colour map of the heatmap (also View ▸ Heatmap colours)")
        self.cmap_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.cmap_box.currentTextChanged.connect(self.set_heat_cmap)

    def _build_actions(self, parent: QObject) -> None:
        self.three_planes_action = QAction("Three planes (O)", parent)
        self.three_planes_action.setCheckable(True)
        self.three_planes_action.setToolTip("Show the XZ and YZ planes through the crosshair beside the slice")
        self.three_planes_action.toggled.connect(self.set_three_planes)
        self.ruler_action = QAction("Ruler (M)", parent)
        self.ruler_action.setCheckable(True)
        self.ruler_action.setToolTip("Left drag measures a distance in mm in any plane (pan: turn it off; "
                                     "View ▸ Clear ruler removes the lines)")
        self.ruler_action.toggled.connect(self.set_ruler)
        self.clear_ruler_action = QAction("Clear ruler", parent)
        self.clear_ruler_action.triggered.connect(self.clear_rulers)

    def _map_box(self) -> QComboBox:
        box = QComboBox()
        box.addItem("fused")
        box.setToolTip("Which map the slice's heatmap shows: the fused one, or one scorer's own "
                       "(features, head) to see which part of the model spoke; scorers' maps are "
                       "kept for the run scored in this session")
        box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        box.setEnabled(False)  # until a run brings scorers' maps
        box.currentTextChanged.connect(self._map_chosen)
        self.session.maps_changed.connect(self._maps_changed)
        return box

    def add_tools(self, bar: QToolBar) -> None:
        """Three planes and the ruler in the Tools toolbar; clearing the ruler is in the View menu."""
        bar.addAction(self.three_planes_action)
        bar.addAction(self.ruler_action)

    def add_heat_tools(self, bar: QToolBar, opacity: QSlider, heat_cut: QSlider, heatmap: QAction,
                       expected: QAction | None = None) -> None:
        """Shown map and colour map in the View toolbar; the planes follow the heatmap's sliders and Expected."""
        bar.addWidget(QLabel(" Map "))
        bar.addWidget(self.map_box)
        bar.addWidget(self.cmap_box)
        opacity.valueChanged.connect(lambda v: self.ortho.set_heat_style(opacity=v / 100))
        heat_cut.valueChanged.connect(lambda v: self.ortho.set_heat_style(threshold=v / 100))
        heatmap.toggled.connect(lambda on: self.ortho.set_heat_style(visible=on))
        if expected is not None:
            expected.toggled.connect(self.ortho.set_expected)

    def keys(self) -> dict[str, Any]:
        return {"O": self.three_planes_action.toggle, "M": self.ruler_action.toggle}

    # -- switching ----------------------------------------------------------------
    def fit_views(self) -> None:
        """Zoom every plane to the part (R)."""
        self.view.fit()
        self.ortho.fit()

    def set_three_planes(self, on: bool) -> None:
        """Show (or hide) the XZ and YZ planes beside the axial view."""
        if self.three_planes_action.isChecked() != on:
            self.three_planes_action.setChecked(on)
            return
        self.ortho.setVisible(on)
        if self.view.image_item.image is not None:
            self.ortho.set_levels(*self.view.levels())
        self._draw_crosshair()

    def set_ruler(self, on: bool) -> None:
        """Turn the ruler on: a left drag in any plane measures instead of panning."""
        for ruler in self.rulers():
            ruler.active = bool(on)
        if on:
            self.status_bar.showMessage("Ruler: drag a line in any plane; M again to pan", 6000)

    def clear_rulers(self) -> None:
        for ruler in self.rulers():
            ruler.clear()

    def rulers(self) -> list[Any]:
        return [self.view.ruler] + [plane.ruler for plane in self.ortho.planes]

    def _measured(self, length_mm: float) -> None:
        if not math.isnan(length_mm):
            self.status_bar.showMessage(f"Ruler: {length_mm:.2f} mm", 10000)

    def _map_chosen(self, name: str) -> None:
        if name and name in self.session.map_names():
            self.session.set_shown_map(name)

    def _maps_changed(self) -> None:
        """Offer the maps of the run in view; show the one the session shows."""
        names = self.session.map_names()
        if [self.map_box.itemText(i) for i in range(self.map_box.count())] != names:
            self.map_box.blockSignals(True)
            self.map_box.clear()
            self.map_box.addItems(names)
            self.map_box.blockSignals(False)
        self.map_box.setCurrentText(self.session.shown_map)
        self.map_box.setEnabled(len(names) > 1)

    def set_heat_cmap(self, name: str) -> None:
        """Colour the heatmap of every plane with one of :data:`overlays.HEAT_MAPS`."""
        if self.cmap_box.currentText() != name:
            self.cmap_box.setCurrentText(name)
            return
        self.view.set_heat_cmap(name)
        self.ortho.set_heat_style(cmap=name)

    # -- per-user settings -----------------------------------------------------------
    def restore(self, opacity: QSlider, heat_cut: QSlider) -> None:
        cmap = str(self.settings.value("heat_cmap", "red"))
        self.cmap_box.setCurrentText(cmap if cmap in overlays.HEAT_MAPS else "red")
        self.set_three_planes(str(self.settings.value("layout", "axial")) == "three")
        self.ortho.set_heat_style(opacity=opacity.value() / 100, threshold=heat_cut.value() / 100)

    def save(self) -> None:
        self.settings.setValue("heat_cmap", self.cmap_box.currentText())
        self.settings.setValue("layout", "three" if self.three_planes_action.isChecked() else "axial")
