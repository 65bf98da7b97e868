"""Review handlers of the window: decisions, notes, undo, export and the Tools dialogs."""
from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QProgressDialog

from ctreview.errors import CtreviewError
from ctreview.gui import settings as settings_mod
from ctreview.gui.dialogs import choose_report_outputs, show_error
from ctreview.gui.keys import KeyHelpDialog
from ctreview.workers import device_task, export_report

log = logging.getLogger(__name__)


def device_name(device: Any) -> str:
    """Return ``"CPU"`` or the GPU's name for a ``torch.device``."""
    if getattr(device, "type", str(device)) == "cuda":
        import torch

        return torch.cuda.get_device_name(device)
    return str(getattr(device, "type", device)).upper()


class ReviewActions:
    """Mixin of :class:`MainWindow`; expects ``session``, ``runner`` and the widgets."""

    _undo_groups: list[int]  # decisions per undoable action, newest last (set by the window)

    # -- decisions ----------------------------------------------------------
    def decide(self, status: str) -> None:
        """Record ``status`` for the current slice, then move to the next in the list."""
        session = self.session
        if session.volume is None:
            return
        if session.volume_id is None or session.workspace is None:
            self.statusBar().showMessage("No workspace: decisions cannot be saved", 5000)
            return
        k = session.current
        following = self.slice_list.neighbour(k, 1)  # before the filter may hide this row
        try:
            session.decide(k, status, self.decision_bar.note.text().strip())
        except CtreviewError as exc:
            show_error(self, "Decision not saved", str(exc))
            return
        self.statusBar().showMessage(f"Slice {k}: {status}", 4000)
        self.push_undo_group(1)
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
            self.statusBar().showMessage("Now press A, F or U to save the decision with this note", 6000)
            return
        try:
            session.decide(k, status, self.decision_bar.note.text().strip())
        except CtreviewError as exc:
            show_error(self, "Note not saved", str(exc))
            return
        self.statusBar().showMessage(f"Slice {k}: note saved", 4000)
        self.slice_list.table.setFocus()

    def focus_note(self) -> None:
        self.decision_bar.note.setFocus()
        self.decision_bar.note.selectAll()

    def push_undo_group(self, n: int) -> None:
        """The last ``n`` decisions were one action (a defect's slices): Ctrl+Z undoes them together."""
        self._undo_groups.append(int(n))

    def undo(self) -> None:
        """Undo the last decision of this session (all slices of a decided defect) and show its slice."""
        n = self._undo_groups.pop() if self._undo_groups else 1
        k, undone = None, 0
        try:
            for _ in range(n):
                if not self.session.can_undo():
                    break
                k = self.session.undo()
                undone += 1
        except CtreviewError as exc:
            show_error(self, "Undo", str(exc))
            return
        if k is None:
            self.statusBar().showMessage("Nothing to undo", 3000)
            return
        self.session.set_current(k)
        status = self.session.status(k) or "unreviewed"
        more = f" (and {undone - 1} more slices of the defect)" if undone > 1 else ""
        self.statusBar().showMessage(f"Undone: slice {k} is {status} again{more}", 4000)

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
            self.statusBar().showMessage("Open and score a volume before exporting", 5000)
            return
        stem = Path(session.volume.path).stem if session.volume.path else "volume"
        start = Path(settings_mod.last_folder(self.settings)) / f"{stem}_report.pdf"
        outputs = choose_report_outputs(self, start)
        if not outputs:
            return
        dialog = QProgressDialog("Writing the report…", "Cancel", 0, 0, self)
        dialog.setWindowTitle("Export report")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(300)  # a quick export never flashes a dialog
        dialog.canceled.connect(self._cancel_export)
        self._export_dialog = dialog
        self.statusBar().showMessage("Writing the report…")
        self.runner.start("export", export_report, session.workspace, session.volume_id,
                          session.run_id, outputs, volume=session.volume,
                          on_yield=self._export_progress, on_return=self._exported)

    def _export_progress(self, step: Any) -> None:
        dialog = getattr(self, "_export_dialog", None)
        if dialog is not None:
            dialog.setMaximum(step.total)
            dialog.setValue(step.done)

    def _cancel_export(self) -> None:
        self.runner.cancel("export")
        self._close_export_dialog()
        self.statusBar().showMessage("Export cancelled", 5000)

    def _close_export_dialog(self) -> None:
        dialog = getattr(self, "_export_dialog", None)
        self._export_dialog = None
        if dialog is not None:
            dialog.canceled.disconnect(self._cancel_export)
            dialog.close()
            dialog.deleteLater()

    def _exported(self, outputs: dict) -> None:
        self._close_export_dialog()
        names = ", ".join(Path(p).name for p in outputs.values())
        self.statusBar().showMessage(f"Report written: {names}", 10000)

    # -- dialogs ------------------------------------------------------------
    def _lazy_dialog(self, module: str, name: str, *args: Any) -> Any:
        try:
            cls = getattr(importlib.import_module(f"ctreview.gui.{module}"), name)
        except (ImportError, AttributeError) as exc:
            show_error(self, "Not available", f"{name} is not available in this build ({exc}).")
            return None
        return cls(self, *args)

    def open_dataset_dialog(self) -> None:
        dialog = self._lazy_dialog("dataset_dialog", "DatasetDialog", self.session.workspace)
        if dialog is not None:
            dialog.exec()

    def open_train_dialog(self) -> None:
        dialog = self._lazy_dialog("train_dialog", "TrainDialog")
        if dialog is not None:
            dialog.exec()
            self.refresh_models()

    def show_key_help(self) -> None:
        KeyHelpDialog(self).exec()

    def show_scores_help(self) -> None:
        """Help ▸ How to read the scores."""
        from ctreview.gui.help_pages import ScoresHelpDialog

        ScoresHelpDialog(self).exec()

    def show_legend(self) -> Any:
        """Show the legend of the overlays (non-modal: it stays beside the slice while the analyst reads)."""
        from ctreview.gui.help_pages import LegendDialog

        dialog = getattr(self, "_legend", None)
        if dialog is None:
            dialog = self._legend = LegendDialog(self)
            for signal in (self.opacity.valueChanged, self.heat_cut.valueChanged, self.cmap_box.currentTextChanged,
                           self.session.threshold_changed, self.session.scores_changed):
                signal.connect(lambda *_: self._update_legend())
        self._update_legend()
        dialog.show()
        dialog.raise_()
        return dialog

    def _update_legend(self) -> None:
        view = self.view
        self._legend.update_heat(view.heat_cmap, view.heat_threshold, view.heat_scale,
                                 float(self.session.threshold))

    def show_about(self) -> None:
        from ctreview import __version__

        QMessageBox.about(self, "About ctreview",
                          f"ctreview {__version__}\nTriage of X-ray CT volumes of electronic parts.")

    def _late_start(self) -> None:
        """Work done once the window is on screen: models and the compute device."""
        if self.runner.closed:  # closed before the event loop got here
            return
        try:
            self.refresh_models()
        except CtreviewError as exc:
            show_error(self, "Models", str(exc))
        for note in getattr(self, "_startup_notes", []):
            self.statusBar().showMessage(f"Note: {note}", 15000)
        self.device_label.setText("device: …")
        self.runner.start("device", device_task,
                          on_return=lambda device: self.device_label.setText(f"device: {device_name(device)}"))
