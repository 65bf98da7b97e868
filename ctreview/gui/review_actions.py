"""Review handlers of the window: decisions, notes, undo and the report export."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QProgressDialog, QStatusBar, QWidget

from ctreview.errors import CtreviewError
from ctreview.gui import settings as settings_mod
from ctreview.gui.dialogs import choose_report_outputs, show_error
from ctreview.gui.session import ReviewSession
from ctreview.gui.slice_list import DecisionBar, SliceList
from ctreview.workers import TaskRunner, export_report

log = logging.getLogger(__name__)


class UndoGroups:
    """How many decisions each undoable action made, newest last (a defect's slices are one action)."""

    def __init__(self) -> None:
        self.sizes: list[int] = []

    def push(self, n: int) -> None:
        """The last ``n`` decisions were one action: Ctrl+Z undoes them together."""
        self.sizes.append(int(n))

    def pop(self) -> int:
        return self.sizes.pop() if self.sizes else 1

    def clear(self) -> None:
        self.sizes.clear()


class ReviewActions:
    """Decide, note, undo, step through the ranked list and export the report.

    Parameters
    ----------
    session, runner, settings, slice_list, decision_bar, status_bar
        The window's parts this uses.
    layer_actions : dict of str to QAction
        The View toolbar's layer toggles (B switches the boxes and the outline together).
    parent : QWidget
        Parent of the message boxes, the export dialogs and the Undo action.
    """

    def __init__(self, session: ReviewSession, runner: TaskRunner, settings: QSettings, slice_list: SliceList,
                 decision_bar: DecisionBar, layer_actions: dict[str, QAction], status_bar: QStatusBar,
                 parent: QWidget) -> None:
        self.session, self.runner, self.settings = session, runner, settings
        self.slice_list, self.decision_bar, self.layer_actions = slice_list, decision_bar, layer_actions
        self.status_bar, self.parent = status_bar, parent
        self.undo_groups = UndoGroups()
        self.progress_dialog: QProgressDialog | None = None
        self.undo_action = QAction("&Undo decision", parent)
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.undo_action.triggered.connect(lambda _checked=False: self.undo())
        decision_bar.decided.connect(self.decide)
        decision_bar.undo_requested.connect(self.undo)
        decision_bar.note_committed.connect(self.commit_note)
        session.current_changed.connect(self._current_changed)
        session.decision_changed.connect(self._decision_changed)

    # -- decisions ----------------------------------------------------------
    def decide(self, status: str) -> None:
        """Record ``status`` for the current slice, then move to the next in the list."""
        session = self.session
        if session.volume is None:
            return
        if session.volume_id is None or session.workspace is None:
            self.status_bar.showMessage("No workspace: decisions cannot be saved", 5000)
            return
        k = session.current
        following = self.slice_list.neighbour(k, 1)  # before the filter may hide this row
        try:
            session.decide(k, status, self.decision_bar.note.text().strip())
        except CtreviewError as exc:
            show_error(self.parent, "Decision not saved", str(exc))
            return
        self.status_bar.showMessage(f"Slice {k}: {status}", 4000)
        self.undo_groups.push(1)
        if following is not None:
            session.set_current(following)
        self.slice_list.table.setFocus()

    def commit_note(self) -> None:
        """Save the note with the slice's existing decision (Enter in the note field)."""
        session, k = self.session, self.session.current
        status = session.status(k)
        if not status:
            # back to the list, so the next A/F/U decides instead of typing into the note
            self.slice_list.table.setFocus()
            self.status_bar.showMessage("Now press A, F or U to save the decision with this note", 6000)
            return
        try:
            session.decide(k, status, self.decision_bar.note.text().strip())
        except CtreviewError as exc:
            show_error(self.parent, "Note not saved", str(exc))
            return
        self.status_bar.showMessage(f"Slice {k}: note saved", 4000)
        self.slice_list.table.setFocus()

    def focus_note(self) -> None:
        self.decision_bar.note.setFocus()
        self.decision_bar.note.selectAll()

    def undo(self) -> None:
        """Undo the last decision of this session (all slices of a decided defect) and show its slice."""
        n = self.undo_groups.pop()
        k, undone = None, 0
        try:
            for _ in range(n):
                if not self.session.can_undo():
                    break
                k = self.session.undo()
                undone += 1
        except CtreviewError as exc:
            show_error(self.parent, "Undo", str(exc))
            return
        if k is None:
            self.status_bar.showMessage("Nothing to undo", 3000)
            return
        self.session.set_current(k)
        status = self.session.status(k) or "unreviewed"
        more = f" (and {undone - 1} more slices of the defect)" if undone > 1 else ""
        self.status_bar.showMessage(f"Undone: slice {k} is {status} again{more}", 4000)

    def step_list(self, step: int) -> None:
        """Go ``step`` rows down (or up) the ranked list."""
        k = self.slice_list.neighbour(self.session.current, step)
        if k is not None:
            self.session.set_current(k)

    def toggle_boxes(self) -> None:
        on = not self.layer_actions["boxes"].isChecked()
        for name in ("boxes", "outline"):
            self.layer_actions[name].setChecked(on)

    def _current_changed(self, k: int) -> None:
        self.decision_bar.show_decision(self.session.decisions.get(k))

    def _decision_changed(self, k: int) -> None:
        if k == self.session.current:
            self.decision_bar.show_decision(self.session.decisions.get(k))
        self.undo_action.setEnabled(self.session.can_undo())

    # -- export ---------------------------------------------------------------
    def export_dialog(self) -> None:
        """Ask where to write the report and write it in a worker."""
        session = self.session
        if session.volume_id is None or session.workspace is None:
            self.status_bar.showMessage("Open and score a volume before exporting", 5000)
            return
        stem = Path(session.volume.path).stem if session.volume.path else "volume"
        start = Path(settings_mod.last_folder(self.settings)) / f"{stem}_report.pdf"
        outputs = choose_report_outputs(self.parent, start)
        if not outputs:
            return
        dialog = QProgressDialog("Writing the report…", "Cancel", 0, 0, self.parent)
        dialog.setWindowTitle("Export report")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(300)  # a quick export never flashes a dialog
        dialog.canceled.connect(self._cancel_export)
        self.progress_dialog = dialog
        self.status_bar.showMessage("Writing the report…")
        self.runner.start("export", export_report, session.workspace, session.volume_id,
                          session.run_id, outputs, volume=session.volume,
                          on_yield=self._export_progress, on_return=self._exported)

    def _export_progress(self, step: Any) -> None:
        dialog = self.progress_dialog
        if dialog is not None:
            dialog.setMaximum(step.total)
            dialog.setValue(step.done)

    def _cancel_export(self) -> None:
        self.runner.cancel("export")
        self.close_export_dialog()
        self.status_bar.showMessage("Export cancelled", 5000)

    def close_export_dialog(self) -> None:
        dialog = self.progress_dialog
        self.progress_dialog = None
        if dialog is not None:
            dialog.canceled.disconnect(self._cancel_export)
            dialog.close()
            dialog.deleteLater()

    def _exported(self, outputs: dict) -> None:
        self.close_export_dialog()
        names = ", ".join(Path(p).name for p in outputs.values())
        self.status_bar.showMessage(f"Report written: {names}", 10000)
