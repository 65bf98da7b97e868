"""Opening from the window: the workspace, volumes, folders of slices, images and batches.

A volume is read in the ``"load"`` task; its first slice shows as soon as
it is read, and scoring (or the ROI alone) follows once it is in the workspace.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QProgressBar, QStatusBar, QWidget

from ctreview.errors import CtreviewError
from ctreview.gui import settings as settings_mod
from ctreview.gui.dialogs import OPEN_FILTER, show_error
from ctreview.gui.scoring_actions import ScoringActions
from ctreview.gui.session import ReviewSession
from ctreview.gui.trust_actions import TrustActions, volume_status
from ctreview.gui.worklist import WorklistDialog
from ctreview.io.folder import slice_stack
from ctreview.paths import default_workspace
from ctreview.review import Workspace, open_workspace
from ctreview.workers import TaskRunner, load_volume
from ctreview.workers.batch_tasks import open_work_item
from ctreview.workers.tasks import ValueRange, VolumeOpened, VolumeRegistered


class OpenActions:
    """File ▸ Open…: read a volume into the session in a worker, then find its ROI or score it.

    Parameters
    ----------
    session, runner, settings, load_bar, status_bar
        The window's parts this uses.
    scoring : ScoringActions
        Scores (or finds the ROI of) a volume once it is in the workspace.
    trust : TrustActions
        Resets the per-volume checks and shows the opened volume's warnings.
    parent : QWidget
        The window: parent of the dialogs; its title names the open volume.
    """

    def __init__(self, session: ReviewSession, runner: TaskRunner, settings: QSettings, load_bar: QProgressBar,
                 scoring: ScoringActions, trust: TrustActions, status_bar: QStatusBar, parent: QWidget) -> None:
        self.session, self.runner, self.settings, self.load_bar = session, runner, settings, load_bar
        self.scoring, self.trust, self.status_bar, self.parent = scoring, trust, status_bar, parent
        self.loading: Path | None = None
        self.autoscore = False
        self.worklist: WorklistDialog | None = None

    def open_workspace(self, path: str | Path | None) -> None:
        """Open the review store; offer a fresh one when it is damaged."""
        path = Path(path) if path else default_workspace()
        try:
            self.session.workspace = open_workspace(path)
        except CtreviewError as exc:
            answer = QMessageBox.question(
                self.parent, "Workspace cannot be used",
                f"{exc}\n\nMove it aside and start a fresh workspace?\n"
                "(Without a workspace, decisions cannot be saved.)")
            if answer != QMessageBox.StandardButton.Yes:
                self.session.workspace = None
                return
            try:
                self.session.workspace = Workspace.create_fresh(path)
            except CtreviewError as again:
                show_error(self.parent, "Workspace", str(again))
                self.session.workspace = None
                return
            self.status_bar.showMessage(f"Old workspace moved to {self.session.workspace.recovered_from}", 10000)

    # -- opening ------------------------------------------------------------
    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.parent, "Open volume",
                                              settings_mod.last_folder(self.settings), OPEN_FILTER)
        if path:
            self.open_path(self.whole_stack_of(path))

    def whole_stack_of(self, path: str | Path) -> Path:
        """``path``, or its folder when it is one slice of a stack and the analyst wants the stack."""
        stack = slice_stack(path)
        if not stack:
            return Path(path)
        answer = QMessageBox.question(
            self.parent, "Open the whole stack?",
            f"{Path(path).name} is one slice of {len(stack)} like-named slices in {Path(path).parent}.\n\n"
            f"Open the whole stack of {len(stack)} slices as one volume?\n(No opens this slice alone.)")
        return Path(path).parent if answer == QMessageBox.StandardButton.Yes else Path(path)

    def open_folder_dialog(self, *, title: str = "Open a folder of slices (TIFF, PNG or DICOM)") -> None:
        """Pick a folder of slice files (or a DICOM series) and open it as one volume."""
        folder = QFileDialog.getExistingDirectory(self.parent, title, settings_mod.last_folder(self.settings))
        if folder:
            self.open_path(folder)

    def open_dicom_dialog(self) -> None:
        self.open_folder_dialog(title="Open a DICOM series (its folder)")

    def open_images_dialog(self) -> None:
        """Pick a folder of independent images (photos, radiograph crops): each one is scored on its own."""
        folder = QFileDialog.getExistingDirectory(self.parent, "Open a folder of independent images",
                                                  settings_mod.last_folder(self.settings))
        if folder:
            self.open_path(folder, images=True)

    def open_path(self, path: str | Path, *, autoscore: bool = False, images: bool = False) -> None:
        """Open the volume (or, with ``images``, the independent images) at ``path`` in a worker.

        The first slice shows as soon as it is read.
        """
        self._start_loading(Path(path), autoscore, f"Opening {Path(path).name}…")
        self.runner.start("load", load_volume, str(path), workspace=self.session.workspace, images=images,
                          on_yield=self._on_load, on_return=lambda _v: None)

    def _start_loading(self, path: Path, autoscore: bool, message: str) -> None:
        self.scoring.cancel_scoring()
        self.runner.cancel("roi")
        self.autoscore = autoscore
        self.loading = path
        self.load_bar.show()
        self.status_bar.showMessage(message)

    # -- batches ------------------------------------------------------------
    def open_worklist(self, source: str | Path | None = None) -> WorklistDialog:
        """File > Open batch…: the worklist of a batch (``batch.json``/its folder) or of the workspace."""
        dialog = self.worklist
        if dialog is None:
            dialog = self.worklist = WorklistDialog(self.session, self.runner, self.open_work_item, self.parent)
        dialog.show()
        dialog.raise_()
        if source is not None:
            dialog.load(source)
        elif not dialog.model.items:
            dialog.choose_batch()
        return dialog

    def open_work_item(self, item: Any) -> None:
        """Open a worklist volume with its run loaded (imported into the workspace in a worker if needed)."""
        if self.session.workspace is None:
            self.status_bar.showMessage("No workspace: a batch run cannot be opened for review", 5000)
            return
        self._start_loading(Path(item.volume), False, f"Opening {Path(item.volume).name} with its batch run…")
        self.runner.start("load", open_work_item, item, workspace=self.session.workspace,
                          on_yield=self._on_load, on_return=lambda _v: None)

    def _on_load(self, event: Any) -> None:
        if isinstance(event, VolumeOpened):
            volume = event.volume
            self.trust.reset_volume_state(volume)
            self.session.set_volume(volume)
            name = Path(volume.path or self.loading or "").name
            # "<file> — ctreview": Qt appends the display name only to titles that do not end with it
            self.parent.setWindowTitle(f"{name} — ctreview")
            self.status_bar.showMessage(volume_status(volume, name), 12000)
            source = self.loading or volume.path
            if source is not None:
                settings_mod.add_recent(self.settings, source)
        elif isinstance(event, VolumeRegistered):
            self.session.attach(event.volume_id, event.decisions, event.run_id, event.scores)
            self.trust.after_registered(event.run_id)
            if self.autoscore:  # the scoring task finds the ROI itself
                self.autoscore = False
                self.scoring.score_clicked()
            else:
                self.scoring.start_roi()
        elif isinstance(event, ValueRange):
            self.session.value_range = (event.lo, event.hi)

    def fill_recent(self, menu: QMenu) -> None:
        """File ▸ Open recent: the files opened last (those gone from disk greyed out)."""
        menu.clear()
        files = settings_mod.recent_files(self.settings)
        for path in files:
            action = menu.addAction(path, partial(self.open_path, path))
            action.setEnabled(Path(path).exists())
        if not files:
            menu.addAction("(none)").setEnabled(False)
