"""The review window: slice view in the centre, ranked list and plots in docks.

The window builds its widgets and hands each action object (``*_actions``
modules) the parts it works on, as constructor arguments: who reads what is
in the imports and the calls below, not in attributes shared through ``self``.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMenu, QProgressBar, QVBoxLayout, QWidget

from ctreview.errors import CtreviewError
from ctreview.gui import settings as settings_mod
from ctreview.gui.actions import Delegate, add_menu
from ctreview.gui.defect_actions import DefectActions
from ctreview.gui.defects_panel import DefectsPanel, DefectStore
from ctreview.gui.dialog_actions import DialogActions
from ctreview.gui.dialogs import show_error
from ctreview.gui.menus import window_menus
from ctreview.gui.model_actions import ModelChoice
from ctreview.gui.notices import DomainBanner, WarningsButton
from ctreview.gui.open_actions import OpenActions
from ctreview.gui.plane_actions import PlaneActions
from ctreview.gui.plots import ScorePlots
from ctreview.gui.review_actions import ReviewActions
from ctreview.gui.scoring_actions import ScoringActions
from ctreview.gui.scoring_panel import ScoringPanel
from ctreview.gui.session import ReviewSession
from ctreview.gui.slice_list import DecisionBar, SliceList
from ctreview.gui.slice_view import PRESETS, SliceView
from ctreview.gui.toolbars import ViewToolbar, scoring_toolbar, tools_toolbar
from ctreview.gui.trust_actions import TrustActions, confirm_quit, restore_heatmap_sliders
from ctreview.workers import TaskRunner, device_task

log = logging.getLogger(__name__)

STATE_VERSION = 2
"""Version of the saved toolbar and dock layout; 2: the toolbars regrouped to fit 1366 pixels."""

TASK_TITLES = {"load": "Cannot open the volume", "score": "Scoring failed", "worklist": "Cannot read the batch",
               "roi": "Cannot find the part", "export": "Export failed"}


def device_name(device: Any) -> str:
    """Return ``"CPU"`` or the GPU's name for a ``torch.device``."""
    if getattr(device, "type", str(device)) == "cuda":
        import torch  # not at the top: the window opens before torch is loaded (the device task loads it)

        return torch.cuda.get_device_name(device)
    return str(getattr(device, "type", device)).upper()


class MainWindow(QMainWindow):
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
        self.setWindowTitle("ctreview")
        self.setAcceptDrops(True)
        self._build_widgets()
        self._build_actions(model)
        self._build_toolbars()
        self._build_docks()
        self.recent_menu = QMenu("Open &recent", self)
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        for title, entries in window_menus(self.opening, self.scorer, self.review, self.defects, self.planes,
                                           self.dialogs, recent=self.recent_menu, refresh_models=self.refresh_models,
                                           quit_=self.close, parent=self):
            add_menu(self.menuBar(), title, entries)
        self._build_shortcuts()
        self._restore_state()
        self.opening.open_workspace(workspace)
        QTimer.singleShot(0, self._late_start)

    # -- construction -------------------------------------------------------
    def _build_widgets(self) -> None:
        status = self.statusBar()
        self.view = SliceView(self.session)
        self.planes = PlaneActions(self.session, self.runner, self.view, status, self.settings, self)
        self.ortho, self.map_box = self.planes.ortho, self.planes.map_box
        self.three_planes_action, self.cmap_box = self.planes.three_planes_action, self.planes.cmap_box
        self.setCentralWidget(self.planes.splitter)
        self.scoring = ScoringPanel()
        self.device_label = QLabel("device: …")
        self.device_label.setMinimumWidth(120)
        self.load_bar = QProgressBar()
        self.load_bar.setMaximumWidth(140)
        self.load_bar.setRange(0, 0)
        self.load_bar.hide()
        self.warnings_button = WarningsButton()
        status.addPermanentWidget(self.warnings_button)
        status.addPermanentWidget(self.load_bar)
        status.addPermanentWidget(self.device_label)
        self.slice_list = SliceList(self.session)
        self.decision_bar = DecisionBar()
        self.domain_banner = DomainBanner()
        self.plots = ScorePlots(self.session)
        self.defect_store = DefectStore(self)
        self.defects_panel = DefectsPanel(self.defect_store, self.session)
        self.view_bar = ViewToolbar(self.view, self.planes)
        self.levels_box, self.preset_box = self.view_bar.levels_box, self.view_bar.levels_box.preset
        self.layer_actions = self.view_bar.layer_actions
        self.opacity, self.heat_cut = self.view_bar.opacity, self.view_bar.heat_cut

    def _build_actions(self, model: str | Path | None) -> None:
        session, runner, status = self.session, self.runner, self.statusBar()
        self.models = ModelChoice(self.scoring, self.settings, model, status, self)
        self.trust = TrustActions(session, runner, self.scoring, self.domain_banner, self.warnings_button,
                                  self.models, status)
        self.scorer = ScoringActions(session, runner, self.scoring, self.slice_list, self.models, self.trust, status)
        self.opening = OpenActions(session, runner, self.settings, self.load_bar, self.scorer, self.trust, status,
                                   self)
        self.review = ReviewActions(session, runner, self.settings, self.slice_list, self.decision_bar,
                                    self.layer_actions, status, self)
        self.defects = DefectActions(session, runner, self.defect_store, self.defects_panel, self.view,
                                     self.planes.cursor, self.decision_bar.note, self.review.undo_groups, status, self)
        # a late-bound call: the window's refresh_models is what scripts and tests replace
        self.dialogs = DialogActions(session, self.view, self.opacity, self.heat_cut, self.cmap_box,
                                     lambda: self.refresh_models(), self)

    def _build_toolbars(self) -> None:
        self.fit_action = QAction("Fit (R)", self)
        self.fit_action.setToolTip("Zoom every plane to the part (R)")
        self.fit_action.triggered.connect(lambda _checked=False: self.planes.fit_views())
        self.legend_action = QAction("Legend", self)
        self.legend_action.setToolTip("What the coloured boxes, lines and heatmap colours mean")
        self.legend_action.triggered.connect(lambda _checked=False: self.dialogs.show_legend())
        self.addToolBar(tools_toolbar(self.fit_action, self.planes, self.legend_action))
        self.addToolBar(scoring_toolbar(self.scoring))  # last in its row: the model picker stretches
        self.addToolBarBreak()
        self.addToolBar(self.view_bar)

    def _build_docks(self) -> None:
        left = QWidget()
        layout = QVBoxLayout(left)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.domain_banner)
        layout.addWidget(self.slice_list, 1)
        layout.addWidget(self.decision_bar)
        self.list_dock = self._dock("Ranked slices", "slices_dock", left, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.plot_dock = self._dock("Scores", "scores_dock", self.plots, Qt.DockWidgetArea.BottomDockWidgetArea)
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

    def _build_shortcuts(self) -> None:
        session, review, defects = self.session, self.review, self.defects
        keys = {
            "A": lambda: review.decide("accept"), "F": lambda: review.decide("flag"),
            "U": lambda: review.decide("unsure"),
            "J": lambda: review.step_list(1), "Down": lambda: review.step_list(1),
            "K": lambda: review.step_list(-1), "Up": lambda: review.step_list(-1),
            "Right": lambda: session.set_current(session.current + 1),
            "Left": lambda: session.set_current(session.current - 1),
            "R": self.planes.fit_views, "N": review.focus_note, "Escape": self.escape,
            "H": lambda: self.layer_actions["heatmap"].toggle(),
            "E": lambda: self.layer_actions["expected"].toggle(),
            "B": review.toggle_boxes,
            "D": lambda: defects.step_defect(1), "Shift+D": lambda: defects.step_defect(-1),
            "Shift+A": lambda: defects.decide_defect("accept"), "Shift+F": lambda: defects.decide_defect("flag"),
            "Shift+U": lambda: defects.decide_defect("unsure"),
            **self.planes.keys(),
        }
        for i, name in enumerate(PRESETS, start=1):
            keys[str(i)] = lambda n=name: self.preset_box.setCurrentText(n)
        self.shortcuts = {}
        for key, slot in keys.items():
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.activated.connect(slot)
            self.shortcuts[key] = shortcut

    # -- window-wide handlers ----------------------------------------------
    def escape(self) -> None:
        """Esc: leave the note for the list, else cancel the scoring."""
        if self.decision_bar.note.hasFocus():
            self.slice_list.table.setFocus()
        else:
            self.scorer.cancel_scoring()

    def show_task_error(self, name: str, exc: BaseException) -> None:
        """The one handler of worker errors: log line (done by the runner) and a message box."""
        if name == "load":
            self.load_bar.hide()
            where = self.opening.loading.name if self.opening.loading else ""
            self.statusBar().showMessage(f"Could not open {where}" if where else "", 10000)
        if name in ("fit", "stored_run"):  # a check that cannot run must not interrupt the analyst
            log.warning("%s: %s", name, exc)
            return
        if name == "score":
            self.scoring.set_running(False)
        if name == "export":
            self.review.close_export_dialog()
        text = str(exc) if isinstance(exc, CtreviewError) else f"{type(exc).__name__}: {exc}"
        show_error(self, TASK_TITLES.get(name, "Error"), text)

    def _task_finished(self, name: str) -> None:
        if name in ("load", "export"):
            self.load_bar.hide()
        elif name == "score":
            self.scoring.set_running(False)

    def _late_start(self) -> None:
        """Work done once the window is on screen: models and the compute device."""
        if self.runner.closed:  # closed before the event loop got here
            return
        try:
            self.refresh_models()
        except CtreviewError as exc:
            show_error(self, "Models", str(exc))
        for note in self._startup_notes:
            self.statusBar().showMessage(f"Note: {note}", 15000)
        self.device_label.setText("device: …")
        self.runner.start("device", device_task,
                          on_return=lambda device: self.device_label.setText(f"device: {device_name(device)}"))

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
        self._startup_notes = restore_heatmap_sliders(self.settings, self.opacity, self.heat_cut)
        mode = self.settings.value("mode")
        if mode:
            self.scoring.mode.setCurrentText(str(mode))
        self.planes.restore(self.opacity, self.heat_cut)

    def _save_state(self) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("window_state", self.saveState(STATE_VERSION))
        self.settings.setValue("heat_opacity", self.opacity.value())
        self.settings.setValue("heat_cut", self.heat_cut.value())
        self.settings.setValue("mode", self.scoring.mode.currentText())
        self.planes.save()
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
            self.opening.open_path(urls[0])

    def closeEvent(self, event: QCloseEvent) -> None:
        if not confirm_quit(self.runner, self):
            event.ignore()
            return
        self._save_state()
        self.runner.shutdown(timeout=10.0)
        if self.session.workspace is not None:
            self.session.workspace.close()
        super().closeEvent(event)

    def set_window_icon(self, icon: QIcon) -> None:
        self.setWindowIcon(icon)

    # -- kept for the tests and scripts that drive the window: the old names, read from the parts ----------
    def refresh_models(self) -> None:
        """Re-read the bundled and user models into the picker (the train dialog calls it too)."""
        self.models.refresh()

    cursor = Delegate("planes", "cursor")  # the crosshair: QWidget.cursor() was never used here
    start_scoring = Delegate("scorer", "start_scoring")
    cancel_scoring = Delegate("scorer", "cancel_scoring")
    use_model = Delegate("trust", "use_model")
    update_banner = Delegate("trust", "update_banner")
    open_path = Delegate("opening", "open_path")
    open_dialog = Delegate("opening", "open_dialog")
    open_folder_dialog = Delegate("opening", "open_folder_dialog")
    whole_stack_of = Delegate("opening", "whole_stack_of")
    open_worklist = Delegate("opening", "open_worklist")
    decide = Delegate("review", "decide")
    step_defect = Delegate("defects", "step_defect")
    load_defects = Delegate("defects", "load_defects")
    show_legend = Delegate("dialogs", "show_legend")
    set_three_planes = Delegate("planes", "set_three_planes")
    clear_rulers = Delegate("planes", "clear_rulers")
    _rulers = Delegate("planes", "rulers")
    _lazy_dialog = Delegate("dialogs", "lazy_dialog")
    _watch_scoring = Delegate("defects", "watch_scoring")
    _score_watch = Delegate("defects", "score_watch")
    _tracker = Delegate("defects", "tracker")
    _model_hint = Delegate("models", "hint")
    _fits = Delegate("trust", "fits")
    _run_model = Delegate("trust", "run_model")
    _export_dialog = Delegate("review", "progress_dialog")

    def _fill_recent(self) -> None:
        self.opening.fill_recent(self.recent_menu)
