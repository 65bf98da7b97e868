"""The review window: slice view in the centre, ranked list and plots in docks."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QProgressBar,
    QSlider,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from ctreview.gui import settings as settings_mod
from ctreview.gui.defect_actions import DefectActions
from ctreview.gui.levels import WindowLevelBox
from ctreview.gui.notices import DomainBanner, WarningsButton
from ctreview.gui.plane_actions import PlaneActions
from ctreview.gui.plots import ScorePlots
from ctreview.gui.scoring_panel import ScoringPanel
from ctreview.gui.session import ReviewSession
from ctreview.gui.slice_list import DecisionBar, SliceList
from ctreview.gui.slice_view import PRESETS, SliceView
from ctreview.gui.window_actions import WindowActions
from ctreview.workers import TaskRunner

STATE_VERSION = 2
"""Version of the saved toolbar and dock layout; 2: the toolbars regrouped to fit 1366 pixels."""

LAYERS = (  # name, toolbar text, tooltip: the colours are those of overlays.OVERLAYS
    ("heatmap", "Heatmap", "Show the heatmap and its red hot-spot boxes (H)"),
    ("outline", "Outline", "Show the part outline, cyan dashed (B)"),
    ("boxes", "ROI", "Show the regions of interest the model scores, orange boxes (B)"),
    ("tiles", "Tiles", "Show the tiles the model looks at, grey dotted"),
)


class MainWindow(DefectActions, PlaneActions, WindowActions, QMainWindow):
    """The ctreview review window.

    Parameters
    ----------
    workspace : str or Path, optional
        The review store; default ``paths.default_workspace()``.
    model : str or Path, optional
        Model folder to select in the picker.
    """

    def __init__(self, workspace: str | Path | None = None, model: str | Path | None = None) -> None:
        super().__init__()
        self.settings = settings_mod.app_settings()
        self.session = ReviewSession(self)
        self.runner = TaskRunner(self)
        self.runner.errored.connect(self.show_task_error)
        self.runner.finished.connect(self._task_finished)
        self._model_hint = str(model) if model else None
        self._cli_model = str(Path(model).expanduser().resolve()) if model else None  # --model wins
        self._model_infos: dict[str, Any] = {}
        self._autoscore = False
        self._undo_groups: list[int] = []
        self.setWindowTitle("ctreview")
        self.setAcceptDrops(True)
        self._build_widgets()
        self._build_docks()
        self._build_menus()
        self._build_shortcuts()
        self._connect_session()
        self._connect_defects()
        self._restore_state()
        self.open_workspace(workspace)
        QTimer.singleShot(0, self._late_start)

    # -- construction -------------------------------------------------------
    def _build_widgets(self) -> None:
        self.view = SliceView(self.session)
        self.setCentralWidget(self._build_planes())
        self.scoring = ScoringPanel()
        self.scoring.run_requested.connect(self.start_scoring)
        self.scoring.cancel_requested.connect(self.cancel_scoring)
        self.scoring.models.currentIndexChanged.connect(lambda _i: self._model_changed())
        self.addToolBar(self._tools_toolbar())
        bar = QToolBar("Scoring")
        bar.setObjectName("scoring_toolbar")
        bar.addWidget(self.scoring)
        self.addToolBar(bar)  # last in its row: Qt gives it the room left, the model picker stretches
        self.addToolBarBreak()
        self.addToolBar(self._view_toolbar())
        self.device_label = QLabel("device: …")
        self.device_label.setMinimumWidth(120)
        self.load_bar = QProgressBar()
        self.load_bar.setMaximumWidth(140)
        self.load_bar.setRange(0, 0)
        self.load_bar.hide()
        self.warnings_button = WarningsButton()
        self.statusBar().addPermanentWidget(self.warnings_button)
        self.statusBar().addPermanentWidget(self.load_bar)
        self.statusBar().addPermanentWidget(self.device_label)

    def _view_toolbar(self) -> QToolBar:
        """Grey window and the heatmap's layers and style: all of it fits a 1366-pixel screen."""
        bar = QToolBar("View")
        bar.setObjectName("view_toolbar")
        self.levels_box = WindowLevelBox(self.view)
        self.preset_box = self.levels_box.preset
        bar.addWidget(self.levels_box)
        bar.addSeparator()
        self.layer_actions: dict[str, QAction] = {}
        for name, text, tip in LAYERS:
            action = bar.addAction(text)
            action.setCheckable(True)
            action.setToolTip(tip)
            action.setChecked(getattr(self.view, f"show_{name}"))
            action.toggled.connect(lambda on, n=name: self.view.set_layer(n, on))
            self.layer_actions[name] = action
        bar.addSeparator()
        self.opacity = self._slider(bar, "Opacity", int(self.view.heat_opacity * 100),
                                    lambda v: self.view.set_heat_opacity(v / 100))
        self.opacity.setToolTip("Opacity of the heatmap")
        self.heat_cut = self._slider(bar, "Cut", int(self.view.heat_threshold * 100),
                                     lambda v: self.view.set_heat_threshold(v / 100))
        self.heat_cut.setToolTip("The heatmap is transparent below this share of its scale")
        bar.addSeparator()
        self._add_plane_tools(bar)
        return bar

    def _tools_toolbar(self) -> QToolBar:
        """Fit, three planes, ruler and the legend of the overlays."""
        bar = QToolBar("Tools")
        bar.setObjectName("tools_toolbar")
        self.fit_action = bar.addAction("Fit (R)", self.fit_views)
        self.fit_action.setToolTip("Zoom every plane to the part (R)")
        self._add_tool_actions(bar)
        self.legend_action = bar.addAction("Legend", self.show_legend)
        self.legend_action.setToolTip("What the coloured boxes, lines and heatmap colours mean")
        return bar

    @staticmethod
    def _slider(bar: QToolBar, text: str, value: int, slot: Any) -> QSlider:
        slider = QSlider(Qt.Orientation.Horizontal)
        slider.setRange(0, 100)
        slider.setValue(value)
        slider.setFixedWidth(80)
        slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        slider.valueChanged.connect(slot)
        bar.addWidget(QLabel(f" {text} "))
        bar.addWidget(slider)
        return slider

    def _build_docks(self) -> None:
        self.slice_list = SliceList(self.session)
        self.decision_bar = DecisionBar()
        self.decision_bar.decided.connect(self.decide)
        self.decision_bar.undo_requested.connect(self.undo)
        self.decision_bar.note_committed.connect(self.commit_note)
        left = QWidget()
        layout = QVBoxLayout(left)
        layout.setContentsMargins(4, 4, 4, 4)
        self.domain_banner = DomainBanner()
        self.domain_banner.model_offered.connect(self.use_model)
        layout.addWidget(self.domain_banner)
        layout.addWidget(self.slice_list, 1)
        layout.addWidget(self.decision_bar)
        self.list_dock = self._dock("Ranked slices", "slices_dock", left,
                                    Qt.DockWidgetArea.LeftDockWidgetArea)
        self.plots = ScorePlots(self.session)
        self.plot_dock = self._dock("Scores", "scores_dock", self.plots,
                                    Qt.DockWidgetArea.BottomDockWidgetArea)
        # beside the scores, under the slice: the window still fits a 600-pixel-high screen
        self.defects_dock = self._dock("Defects", "defects_dock", self.defects_panel,
                                       Qt.DockWidgetArea.BottomDockWidgetArea)
        self.splitDockWidget(self.plot_dock, self.defects_dock, Qt.Orientation.Horizontal)
        # the slice is what the analyst looks at: give it most of the window
        self.resizeDocks([self.list_dock], [430], Qt.Orientation.Horizontal)
        self.resizeDocks([self.plot_dock], [210], Qt.Orientation.Vertical)
        self.resizeDocks([self.plot_dock, self.defects_dock], [800, 560], Qt.Orientation.Horizontal)

    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        return dock

    def _build_menus(self) -> None:
        menu = self.menuBar().addMenu("&File")
        menu.addAction("&Open volume…", QKeySequence.StandardKey.Open, self.open_dialog)
        menu.addAction("Open &folder of slices…", QKeySequence("Ctrl+Shift+O"), self.open_folder_dialog)
        menu.addAction("Open &DICOM series…", self.open_dicom_dialog)
        menu.addAction("Open as independent &images…", self.open_images_dialog)
        self.recent_menu = menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        menu.addAction("Open &batch…", lambda: self.open_worklist())
        menu.addAction("&Export report…", QKeySequence("Ctrl+E"), self.export_dialog)
        menu.addSeparator()
        menu.addAction("&Quit", QKeySequence("Ctrl+Q"), self.close)
        edit = self.menuBar().addMenu("&Edit")
        self.undo_action = edit.addAction("&Undo decision", QKeySequence.StandardKey.Undo, self.undo)
        score = self.menuBar().addMenu("&Scoring")
        score.addAction("&Score volume", QKeySequence("Ctrl+R"), self._score_clicked)
        score.addAction("&Cancel scoring", self.cancel_scoring)
        score.addAction("&Refresh model list", self.refresh_models)
        self._add_view_menu()
        tools = self.menuBar().addMenu("&Tools")
        tools.addAction("&Training sets…", self.open_dataset_dialog)
        tools.addAction("T&rain model…", self.open_train_dialog)
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction("&Keyboard help", QKeySequence("F1"), self.show_key_help)
        help_menu.addAction("How to read the &scores", self.show_scores_help)
        help_menu.addAction("&Legend of the slice view", self.show_legend)
        help_menu.addAction("&About ctreview", self.show_about)

    def _build_shortcuts(self) -> None:
        keys = {
            "A": lambda: self.decide("accept"), "F": lambda: self.decide("flag"),
            "U": lambda: self.decide("unsure"),
            "J": lambda: self.step_list(1), "Down": lambda: self.step_list(1),
            "K": lambda: self.step_list(-1), "Up": lambda: self.step_list(-1),
            "Right": lambda: self.session.set_current(self.session.current + 1),
            "Left": lambda: self.session.set_current(self.session.current - 1),
            "R": self.fit_views, "N": self.focus_note, "Escape": self.escape,
            "H": lambda: self.layer_actions["heatmap"].toggle(),
            "B": self.toggle_boxes,
            **self._plane_keys(),
        }
        for i, name in enumerate(PRESETS, start=1):
            keys[str(i)] = lambda n=name: self.preset_box.setCurrentText(n)
        self.shortcuts = {}
        for key, slot in keys.items():
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.activated.connect(slot)
            self.shortcuts[key] = shortcut

    def _connect_session(self) -> None:
        session = self.session
        session.current_changed.connect(self._current_changed)
        session.decision_changed.connect(self._decision_changed)

    # -- settings -----------------------------------------------------------
    def _restore_state(self) -> None:
        geometry = self.settings.value("geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 900)
        state = self.settings.value("window_state")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state, STATE_VERSION)  # an older layout is refused: the defaults fit 1366 px
        self._restore_heatmap_sliders()
        mode = self.settings.value("mode")
        if mode:
            self.scoring.mode.setCurrentText(str(mode))
        self._restore_planes()

    def _save_state(self) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("window_state", self.saveState(STATE_VERSION))
        self.settings.setValue("heat_opacity", self.opacity.value())
        self.settings.setValue("heat_cut", self.heat_cut.value())
        self.settings.setValue("mode", self.scoring.mode.currentText())
        self._save_planes()
        if self.scoring.model_path():
            self.settings.setValue("model", self.scoring.model_path())
        self.settings.sync()

    # -- Qt events ----------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            event.acceptProposedAction()
            self.open_path(urls[0])

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.confirm_quit():
            event.ignore()
            return
        self._save_state()
        self.runner.shutdown(timeout=10.0)
        if self.session.workspace is not None:
            self.session.workspace.close()
        super().closeEvent(event)

    def set_window_icon(self, icon: QIcon) -> None:
        self.setWindowIcon(icon)
