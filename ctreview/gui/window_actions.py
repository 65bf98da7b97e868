"""What the review window does: open, score, decide, undo, export, dialogs.

A mixin of :class:`~ctreview.gui.main_window.MainWindow`, kept apart from
the widget construction. Long work goes to ``self.runner`` (a
:class:`~ctreview.workers.TaskRunner`); every task error arrives in
:meth:`show_task_error`.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QMessageBox

from ctreview.errors import CtreviewError
from ctreview.gui import settings as settings_mod
from ctreview.gui.dialogs import OPEN_FILTER, show_error
from ctreview.gui.review_actions import ReviewActions
from ctreview.scoring.settings import ScoringSettings
from ctreview.workers import load_volume, roi_task, score_task
from ctreview.workers.tasks import ResultsBatch, ValueRange, VolumeOpened, VolumeRegistered

log = logging.getLogger(__name__)


class WindowActions(ReviewActions):
    """Handlers of :class:`MainWindow`; expects its widgets and ``session``/``runner``."""

    # -- workspace ----------------------------------------------------------
    def open_workspace(self, path: str | Path | None) -> None:
        """Open the review store; offer a fresh one when it is damaged."""
        from ctreview.paths import default_workspace
        from ctreview.review import Workspace, open_workspace

        path = Path(path) if path else default_workspace()
        try:
            self.session.workspace = open_workspace(path)
        except CtreviewError as exc:
            answer = QMessageBox.question(
                self, "Workspace cannot be used",
                f"{exc}\n\nMove it aside and start a fresh workspace?\n"
                "(Without a workspace, decisions cannot be saved.)")
            if answer != QMessageBox.StandardButton.Yes:
                self.session.workspace = None
                return
            try:
                self.session.workspace = Workspace.create_fresh(path)
            except CtreviewError as again:
                show_error(self, "Workspace", str(again))
                self.session.workspace = None
                return
            self.statusBar().showMessage(f"Old workspace moved to "
                                         f"{self.session.workspace.recovered_from}", 10000)

    # -- opening ------------------------------------------------------------
    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open volume",
                                              settings_mod.last_folder(self.settings), OPEN_FILTER)
        if path:
            self.open_path(path)

    def open_path(self, path: str | Path, *, autoscore: bool = False) -> None:
        """Open the volume at ``path`` in a worker; the first slice shows as soon as it is read."""
        self.cancel_scoring()
        self.runner.cancel("roi")
        self._autoscore = autoscore
        self._loading = Path(path)
        self.load_bar.show()
        self.statusBar().showMessage(f"Opening {Path(path).name}…")
        self.runner.start("load", load_volume, str(path), workspace=self.session.workspace,
                          on_yield=self._on_load, on_return=lambda _v: None)

    def _on_load(self, event: Any) -> None:
        if isinstance(event, VolumeOpened):
            volume = event.volume
            self.session.set_volume(volume)
            self.setWindowTitle(f"ctreview — {Path(volume.path or self._loading).name}")
            self.statusBar().showMessage(f"{Path(volume.path or self._loading).name}: "
                                         f"{' × '.join(map(str, volume.shape))} (z, y, x), "
                                         f"{volume.dtype}", 8000)
            settings_mod.add_recent(self.settings, self._loading)
            for warning in volume.warnings:
                log.warning("%s: %s", volume.path, warning)
        elif isinstance(event, VolumeRegistered):
            self.session.attach(event.volume_id, event.decisions, event.run_id, event.scores)
            if self._autoscore:  # the scoring task finds the ROI itself
                self._autoscore = False
                self._score_clicked()
            else:
                self._start_roi()
        elif isinstance(event, ValueRange):
            self.session.value_range = (event.lo, event.hi)

    def _task_finished(self, name: str) -> None:
        if name == "load":
            self.load_bar.hide()
        elif name == "score":
            self.scoring.set_running(False)
        elif name == "export":
            self.load_bar.hide()

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        files = settings_mod.recent_files(self.settings)
        for path in files:
            action = self.recent_menu.addAction(path, lambda p=path: self.open_path(p))
            action.setEnabled(Path(path).exists())
        if not files:
            self.recent_menu.addAction("(none)").setEnabled(False)

    # -- models and ROI -----------------------------------------------------
    def refresh_models(self) -> None:
        """Re-read the bundled and user models into the picker (after training, say)."""
        from ctreview.model import list_models

        infos = list_models()
        self._model_infos = {str(info.path): info for info in infos}
        if self._model_hint and self._model_hint not in self._model_infos:
            self._add_hinted_model(infos)  # resolves the hint: a relative --model path is kept too
        keep = self._model_hint or self.scoring.model_path() or self.settings.value("model")
        self.scoring.set_models(list(self._model_infos.values()), keep=str(keep) if keep else None)
        self._model_hint = None

    def _add_hinted_model(self, infos: list[Any]) -> None:
        from ctreview.model import ModelInfo, read_meta

        path = Path(self._model_hint).expanduser().resolve()
        try:
            meta = read_meta(path)
        except CtreviewError as exc:
            show_error(self, "Model", str(exc))
            return
        self._model_hint = str(path)
        self._model_infos[str(path)] = ModelInfo(path, str(meta.get("name", path.name)),
                                                 str(meta.get("profile", "")),
                                                 int(meta.get("tile_size", 0)), str(meta.get("created", "")))

    def _model_changed(self) -> None:
        if self.session.volume_id is not None and not self.runner.is_running("score"):
            self._start_roi()

    def _start_roi(self) -> None:
        info = self._model_infos.get(self.scoring.model_path() or "")
        if self.session.volume is None or info is None:
            return
        self.runner.start("roi", roi_task, self.session.volume, info.profile or "whole-part",
                          info.tile_size or None, on_return=self._on_roi)

    def _on_roi(self, roi: Any) -> None:
        self.session.set_roi(roi, self.scoring.model_path())

    # -- scoring ------------------------------------------------------------
    def _score_clicked(self) -> None:
        if not self.scoring.running and self.scoring.model_path():
            self.start_scoring(self.scoring.model_path(), self.scoring.mode.currentText())

    def start_scoring(self, model_path: str, mode: str) -> None:
        """Score the open volume with the model at ``model_path``."""
        session = self.session
        if session.volume is None or session.volume_id is None or session.workspace is None:
            self.statusBar().showMessage("Open a volume first (and a workspace to keep the scores)", 5000)
            return
        roi = session.roi if session.roi_model == model_path else None
        if roi is None:
            self.runner.cancel("roi")  # the scoring task finds it
        total = len(roi.slices) if roi is not None else len(session.volume)
        self.scoring.set_running(True, total)
        self._score_started = time.monotonic()
        self._slice_at_start = session.current
        self.runner.start("score", score_task, session.volume, model_path, ScoringSettings(mode=mode),
                          workspace=session.workspace, roi=roi,
                          on_yield=self._on_score, on_return=self._on_scored)

    def _on_score(self, event: Any) -> None:
        if isinstance(event, ResultsBatch):
            self.session.add_results(event.results)
            self.scoring.add_done([r.index for r in event.results],
                                  refining=any(r.stage == "refined" for r in event.results))
        else:  # RunStarted
            self.session.start_run(event.run_id)
            self.session.set_roi(event.roi, self.scoring.model_path())
            self.scoring.set_total(event.total)

    def _on_scored(self, summary: Any) -> None:
        self.scoring.set_running(False)
        scores = self.session.scores
        above = self.session.above_threshold()
        seconds = time.monotonic() - self._score_started
        self.scoring.rate.setText(f"{len(scores)} slices in {seconds:.0f} s")
        self.statusBar().showMessage(f"Scored {len(scores)} slices in {seconds:.1f} s; "
                                     f"{above} above the threshold", 15000)
        order = self.slice_list.proxy.slices_in_order()
        if order and self.session.current == self._slice_at_start:
            # the analyst has not moved meanwhile: start the review at rank 1
            self.session.set_current(order[0])
        self.slice_list.select_slice(self.session.current)

    def cancel_scoring(self) -> None:
        """Stop a running scoring; the slices scored so far stay."""
        if self.runner.is_running("score"):
            self.runner.cancel("score")
            self.statusBar().showMessage("Scoring cancelled; the slices scored so far are kept", 8000)
        self.scoring.set_running(False)

    def escape(self) -> None:
        if self.decision_bar.note.hasFocus():
            self.slice_list.table.setFocus()
        else:
            self.cancel_scoring()

    # -- errors ---------------------------------------------------------------
    def show_task_error(self, name: str, exc: BaseException) -> None:
        """The one handler of worker errors: log line (done by the runner) and a message box."""
        titles = {"load": "Cannot open the volume", "score": "Scoring failed",
                  "roi": "Cannot find the part", "export": "Export failed"}
        if name == "load":
            self.load_bar.hide()
        if name == "score":
            self.scoring.set_running(False)
        if name == "export":
            self._close_export_dialog()
        text = str(exc) if isinstance(exc, CtreviewError) else f"{type(exc).__name__}: {exc}"
        show_error(self, titles.get(name, "Error"), text)
