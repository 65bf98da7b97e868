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
from ctreview.gui.notices import plural
from ctreview.gui.review_actions import ReviewActions
from ctreview.gui.trust_actions import TrustActions
from ctreview.scoring.settings import ScoringSettings
from ctreview.workers import load_volume, roi_task, score_task
from ctreview.workers.tasks import ResultsBatch, ValueRange, VolumeOpened, VolumeRegistered

log = logging.getLogger(__name__)


class WindowActions(TrustActions, ReviewActions):
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
            self.open_path(self.whole_stack_of(path))

    def whole_stack_of(self, path: str | Path) -> Path:
        """``path``, or its folder when it is one slice of a stack and the analyst wants the stack."""
        from ctreview.io.folder import slice_stack

        stack = slice_stack(path)
        if not stack:
            return Path(path)
        answer = QMessageBox.question(
            self, "Open the whole stack?",
            f"{Path(path).name} is one slice of {len(stack)} like-named slices in {Path(path).parent}.\n\n"
            f"Open the whole stack of {len(stack)} slices as one volume?\n(No opens this slice alone.)")
        return Path(path).parent if answer == QMessageBox.StandardButton.Yes else Path(path)

    def open_folder_dialog(self, *, title: str = "Open a folder of slices (TIFF, PNG or DICOM)") -> None:
        """Pick a folder of slice files (or a DICOM series) and open it as one volume."""
        folder = QFileDialog.getExistingDirectory(self, title, settings_mod.last_folder(self.settings))
        if folder:
            self.open_path(folder)

    def open_dicom_dialog(self) -> None:
        self.open_folder_dialog(title="Open a DICOM series (its folder)")

    def open_images_dialog(self) -> None:
        """Pick a folder of independent images (photos, radiograph crops): each one is scored on its own."""
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of independent images",
                                                  settings_mod.last_folder(self.settings))
        if folder:
            self.open_path(folder, images=True)

    def open_path(self, path: str | Path, *, autoscore: bool = False, images: bool = False) -> None:
        """Open the volume (or, with ``images``, the independent images) at ``path`` in a worker.

        The first slice shows as soon as it is read.
        """
        self.cancel_scoring()
        self.runner.cancel("roi")
        self._autoscore = autoscore
        self._loading = Path(path)
        self.load_bar.show()
        self.statusBar().showMessage(f"Opening {Path(path).name}…")
        self.runner.start("load", load_volume, str(path), workspace=self.session.workspace, images=images,
                          on_yield=self._on_load, on_return=lambda _v: None)

    # -- batches ------------------------------------------------------------
    def open_worklist(self, source: str | Path | None = None) -> Any:
        """File > Open batch…: the worklist of a batch (``batch.json``/its folder) or of the workspace."""
        from ctreview.gui.worklist import WorklistDialog

        dialog = getattr(self, "_worklist", None)
        if dialog is None:
            dialog = self._worklist = WorklistDialog(self)
        dialog.show()
        dialog.raise_()
        if source is not None:
            dialog.load(source)
        elif not dialog.model.items:
            dialog.choose_batch()
        return dialog

    def open_work_item(self, item: Any) -> None:
        """Open a worklist volume with its run loaded (imported into the workspace in a worker if needed)."""
        from ctreview.workers.batch_tasks import open_work_item

        if self.session.workspace is None:
            self.statusBar().showMessage("No workspace: a batch run cannot be opened for review", 5000)
            return
        self.cancel_scoring()
        self.runner.cancel("roi")
        self._autoscore = False
        self._loading = Path(item.volume)
        self.load_bar.show()
        self.statusBar().showMessage(f"Opening {Path(item.volume).name} with its batch run…")
        self.runner.start("load", open_work_item, item, workspace=self.session.workspace,
                          on_yield=self._on_load, on_return=lambda _v: None)

    def _on_load(self, event: Any) -> None:
        if isinstance(event, VolumeOpened):
            volume = event.volume
            self.reset_volume_state(volume)
            self.session.set_volume(volume)
            name = Path(volume.path or self._loading).name
            # "<file> — ctreview": Qt appends the display name only to titles that do not end with it
            self.setWindowTitle(f"{name} — ctreview")
            self.statusBar().showMessage(self.volume_status(volume, name), 12000)
            settings_mod.add_recent(self.settings, self._loading)
        elif isinstance(event, VolumeRegistered):
            self.session.attach(event.volume_id, event.decisions, event.run_id, event.scores)
            self.after_registered(event.run_id)
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
        if self.session.volume is not None:
            self.check_model_fit()  # a new model may fit the open volume

    def _add_hinted_model(self, infos: list[Any]) -> None:
        from ctreview.model import ModelInfo, read_meta
        from ctreview.model.library import engine_of, scorers_of

        path = Path(self._model_hint).expanduser().resolve()
        try:
            meta = read_meta(path)
        except CtreviewError as exc:
            show_error(self, "Model", str(exc))
            return
        self._model_hint = str(path)
        self._model_infos[str(path)] = ModelInfo(path, str(meta.get("name", path.name)),
                                                 str(meta.get("profile", "")),
                                                 int(meta.get("tile_size", 0)), str(meta.get("created", "")),
                                                 engine=engine_of(meta), scorers=scorers_of(meta))

    def _model_changed(self) -> None:
        self.update_banner()
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
        self.add_warnings(list(roi.warnings))

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
        self._scoring_model = model_path
        settings = ScoringSettings(mode=mode, anogan_steps=self.scoring.anogan_steps())
        self.runner.start("score", score_task, session.volume, model_path, settings,
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
            self._run_model, self._run_domain = self._scoring_model, event.domain or None
            self.add_warnings(list(event.roi.warnings))
            self.update_banner()
            self._say_scoring(event.device, getattr(event, "scale", ""))

    def _say_scoring(self, device: str, scale: str = "") -> None:
        """The status bar names the model scoring, why it is that one, and the device with its threads."""
        from torch import device as torch_device  # loaded by the scoring worker already: no cost here

        from ctreview.model.device import describe

        why = "given with --model" if self.cli_model_selected() else "selected in the model box"
        self.statusBar().showMessage(f"Scoring with model {self.model_name(self._scoring_model)} ({why}) on "
                                     f"{describe(torch_device(device))}" + (f"; {scale}" if scale else ""), 15000)

    def _on_scored(self, summary: Any) -> None:
        self.scoring.set_running(False)
        scores = self.session.scores
        above = self.session.above_threshold()
        seconds = time.monotonic() - self._score_started
        self.scoring.rate.setText(f"{len(scores)} slices in {seconds:.0f} s")
        self._run_domain = summary.domain or None
        self.update_banner()
        text = f"Scored {plural(len(scores), 'slice')} in {seconds:.1f} s; {above} above the threshold"
        volume = getattr(summary, "volume", None) or {}
        binning = volume.get("binning") or [1, 1, 1]
        if any(int(b) > 1 for b in binning):
            text += f"; scored binned {'x'.join(str(int(b)) for b in binning)} (the model's working scale)"
        if self._run_domain and not self._run_domain.get("ok", True):
            text += "; the model was not trained for this volume (see the banner)"
        model = getattr(summary, "model", None) or {}
        if int(model.get("format_version") or 2) == 1:
            text += (f"; model {model.get('name')} is an AnoGAN model of format 1: scored as a fused model "
                     "with one AnoGAN scorer")
        self.statusBar().showMessage(text, 15000)
        order = self.slice_list.proxy.slices_in_order()
        if order and self.session.current == self._slice_at_start:
            # the analyst has not moved meanwhile: start the review at rank 1
            self.session.set_current(order[0])
        self.slice_list.select_slice(self.session.current)

    def cancel_scoring(self) -> None:
        """Stop a running scoring; the slices scored so far stay."""
        running = self.runner.is_running("score")
        if running:
            self.runner.cancel("score")
            self.statusBar().showMessage("Scoring cancelled; the slices scored so far are kept", 8000)
        self.scoring.set_running(False, cancelled=running)

    def escape(self) -> None:
        if self.decision_bar.note.hasFocus():
            self.slice_list.table.setFocus()
        else:
            self.cancel_scoring()

    # -- errors ---------------------------------------------------------------
    def show_task_error(self, name: str, exc: BaseException) -> None:
        """The one handler of worker errors: log line (done by the runner) and a message box."""
        titles = {"load": "Cannot open the volume", "score": "Scoring failed", "worklist": "Cannot read the batch",
                  "roi": "Cannot find the part", "export": "Export failed"}
        if name == "load":
            self.load_bar.hide()
            where = Path(getattr(self, "_loading", "") or "").name
            self.statusBar().showMessage(f"Could not open {where}" if where else "", 10000)
        if name in ("fit", "stored_run"):  # a check that cannot run must not interrupt the analyst
            log.warning("%s: %s", name, exc)
            return
        if name == "score":
            self.scoring.set_running(False)
        if name == "export":
            self._close_export_dialog()
        text = str(exc) if isinstance(exc, CtreviewError) else f"{type(exc).__name__}: {exc}"
        show_error(self, titles.get(name, "Error"), text)
