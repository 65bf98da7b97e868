"""The window's three-plane layout, ruler and heatmap colours: building and switching them.

A mixin of :class:`~ctreview.gui.main_window.MainWindow`. The layout (axial
only, or axial with XZ and YZ planes beside it), the heatmap colour map and
its opacity are remembered per user (QSettings).
"""
from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QLabel, QSplitter, QToolBar, QWidget

from ctreview.gui import overlays
from ctreview.gui.defects_panel import DefectsPanel, DefectStore
from ctreview.gui.ortho_view import OrthoView, PlaneCursor, link_axial


class PlaneActions:
    """Mixin of :class:`MainWindow`; expects ``session``, ``runner``, ``view`` and ``settings``."""

    def _build_planes(self) -> QWidget:
        """Return the central widget: the axial view with the orthogonal planes beside it."""
        self.cursor = PlaneCursor(self)
        self.ortho = OrthoView(self.session, self.cursor, self.runner)
        self.ortho.setVisible(False)
        self._draw_crosshair = link_axial(self.view, self.cursor, self.ortho.isVisible)
        self.view.histogram.sigLevelsChanged.connect(lambda *_: self.ortho.set_levels(*self.view.levels()))
        for plane in self.ortho.planes:
            plane.window_drag.connect(self.view.drag_window)
            plane.ruler.measured.connect(self._measured)
        self.view.ruler.measured.connect(self._measured)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(self.ortho)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.defect_store = DefectStore(self)
        self.defects_panel = DefectsPanel(self.defect_store, self.session)
        return self.splitter

    def _add_plane_tools(self, bar: QToolBar) -> None:
        """Shown map and colour map in the View toolbar."""
        bar.addWidget(QLabel(" Map "))
        self.map_box = QComboBox()
        self.map_box.addItem("fused")
        self.map_box.setToolTip("Which map the slice's heatmap shows: the fused one, or one scorer's own "
                                "(features, head) to see which part of the model spoke; scorers' maps are "
                                "kept for the run scored in this session")
        self.map_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.map_box.setEnabled(False)  # until a run brings scorers' maps
        self.map_box.currentTextChanged.connect(self._map_chosen)
        self.session.maps_changed.connect(self._maps_changed)
        bar.addWidget(self.map_box)
        self.cmap_box = QComboBox()
        self.cmap_box.addItems(list(overlays.HEAT_MAPS))
        self.cmap_box.setToolTip("Colour map of the heatmap (also View ▸ Heatmap colours)")
        self.cmap_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.cmap_box.currentTextChanged.connect(self.set_heat_cmap)
        bar.addWidget(self.cmap_box)
        self.opacity.valueChanged.connect(lambda v: self.ortho.set_heat_style(opacity=v / 100))
        self.heat_cut.valueChanged.connect(lambda v: self.ortho.set_heat_style(threshold=v / 100))
        self.layer_actions["heatmap"].toggled.connect(lambda on: self.ortho.set_heat_style(visible=on))

    def _add_tool_actions(self, bar: QToolBar) -> None:
        """Three planes and the ruler in the Tools toolbar; clearing the ruler is in the View menu."""
        self.three_planes_action = QAction("Three planes (O)", self)
        self.three_planes_action.setCheckable(True)
        self.three_planes_action.setToolTip("Show the XZ and YZ planes through the crosshair beside the slice")
        self.three_planes_action.toggled.connect(self.set_three_planes)
        bar.addAction(self.three_planes_action)
        self.ruler_action = QAction("Ruler (M)", self)
        self.ruler_action.setCheckable(True)
        self.ruler_action.setToolTip("Left drag measures a distance in mm in any plane (pan: turn it off; "
                                     "View ▸ Clear ruler removes the lines)")
        self.ruler_action.toggled.connect(self.set_ruler)
        bar.addAction(self.ruler_action)
        self.clear_ruler_action = QAction("Clear ruler", self)
        self.clear_ruler_action.triggered.connect(self.clear_rulers)

    def _add_view_menu(self) -> None:
        menu = self.menuBar().addMenu("&View")
        menu.addAction("&Legend", self.show_legend)
        menu.addAction(self.three_planes_action)
        menu.addAction(self.ruler_action)
        menu.addAction(self.clear_ruler_action)
        colours = menu.addMenu("Heatmap &colours")
        for name in overlays.HEAT_MAPS:
            colours.addAction(name, lambda n=name: self.cmap_box.setCurrentText(n))
        menu.addSeparator()  # the keys are window shortcuts (see _plane_keys): named here, not bound twice
        menu.addAction("Next defect\tD", lambda: self.step_defect(1))
        menu.addAction("Previous defect\tShift+D", lambda: self.step_defect(-1))

    def _plane_keys(self) -> dict[str, Any]:
        return {
            "D": lambda: self.step_defect(1), "Shift+D": lambda: self.step_defect(-1),
            "Shift+A": lambda: self.decide_defect("accept"), "Shift+F": lambda: self.decide_defect("flag"),
            "Shift+U": lambda: self.decide_defect("unsure"),
            "O": self.three_planes_action.toggle, "M": self.ruler_action.toggle,
        }

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
        for ruler in self._rulers():
            ruler.active = bool(on)
        if on:
            self.statusBar().showMessage("Ruler: drag a line in any plane; M again to pan", 6000)

    def clear_rulers(self) -> None:
        for ruler in self._rulers():
            ruler.clear()

    def _rulers(self) -> list[Any]:
        return [self.view.ruler] + [plane.ruler for plane in self.ortho.planes]

    def _measured(self, length_mm: float) -> None:
        if not math.isnan(length_mm):
            self.statusBar().showMessage(f"Ruler: {length_mm:.2f} mm", 10000)

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
    def _restore_planes(self) -> None:
        cmap = str(self.settings.value("heat_cmap", "red"))
        self.cmap_box.setCurrentText(cmap if cmap in overlays.HEAT_MAPS else "red")
        self.set_three_planes(str(self.settings.value("layout", "axial")) == "three")
        self.ortho.set_heat_style(opacity=self.opacity.value() / 100, threshold=self.heat_cut.value() / 100)

    def _save_planes(self) -> None:
        self.settings.setValue("heat_cmap", self.cmap_box.currentText())
        self.settings.setValue("layout", "three" if self.three_planes_action.isChecked() else "axial")
