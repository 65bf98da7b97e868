"""The window's three toolbars: Tools (fit, planes, ruler, legend), Scoring, and View (grey window, heatmap)."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QSlider, QToolBar

from ctreview.gui.levels import WindowLevelBox
from ctreview.gui.plane_actions import PlaneActions
from ctreview.gui.scoring_panel import ScoringPanel
from ctreview.gui.slice_view import SliceView

LAYERS = (  # name, toolbar text, tooltip: the colours are those of overlays.OVERLAYS
    ("heatmap", "Heatmap", "Show the heatmap and its red hot-spot boxes (H)"),
    ("outline", "Outline", "Show the part outline, cyan dashed (B)"),
    ("boxes", "ROI", "Show the regions of interest the model scores, orange boxes (B)"),
    ("tiles", "Tiles", "Show the tiles the model looks at, grey dotted"),
    ("expected", "Expected", "Show the slice the model expected (its reconstruction) inside the ROI, "
                             "in place of the scan (E)"),
)


class ViewToolbar(QToolBar):
    """Grey window and the heatmap's layers and style: all of it fits a 1366-pixel screen.

    The planes' map and colour map boxes sit at its end.
    """

    def __init__(self, view: SliceView, planes: PlaneActions) -> None:
        super().__init__("View")
        self.setObjectName("view_toolbar")
        self.levels_box = WindowLevelBox(view)
        self.addWidget(self.levels_box)
        self.addSeparator()
        self.layer_actions: dict[str, QAction] = {}
        for name, text, tip in LAYERS:
            action = self.addAction(text)
            action.setCheckable(True)
            action.setToolTip(tip)
            action.setChecked(getattr(view, f"show_{name}"))
            action.toggled.connect(lambda on, n=name: view.set_layer(n, on))
            self.layer_actions[name] = action
        self.addSeparator()
        self.opacity = self._slider("Opacity", int(view.heat_opacity * 100), lambda v: view.set_heat_opacity(v / 100))
        self.opacity.setToolTip("Opacity of the heatmap")
        self.heat_cut = self._slider("Cut", int(view.heat_threshold * 100),
                                     lambda v: view.set_heat_threshold(v / 100))
        self.heat_cut.setToolTip("The heatmap is transparent below this share of its scale")
        self.addSeparator()
        planes.add_heat_tools(self, self.opacity, self.heat_cut, self.layer_actions["heatmap"],
                              self.layer_actions["expected"])

    def _slider(self, text: str, value: int, slot: Callable[[int], None]) -> QSlider:
        slider = QSlider(Qt.Orientation.Horizontal)
        slider.setRange(0, 100)
        slider.setValue(value)
        slider.setFixedWidth(80)
        slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        slider.valueChanged.connect(slot)
        self.addWidget(QLabel(f" {text} "))
        self.addWidget(slider)
        return slider


def tools_toolbar(fit: QAction, planes: PlaneActions, legend: QAction) -> QToolBar:
    """Fit, three planes, ruler and the legend of the overlays."""
    bar = QToolBar("Tools")
    bar.setObjectName("tools_toolbar")
    bar.addAction(fit)
    planes.add_tools(bar)
    bar.addAction(legend)
    return bar


def scoring_toolbar(scoring: ScoringPanel) -> QToolBar:
    """The scoring panel (model picker, mode, run, progress) as a toolbar."""
    bar = QToolBar("Scoring")
    bar.setObjectName("scoring_toolbar")
    bar.addWidget(scoring)
    return bar
