"""Defect handlers of the review window: find, list, step through and decide 3D defects.

The defects of a run come from the workspace (stored by the scoring service,
or found from the cached heatmaps of an older run) in the ``"defects"`` task;
while a run streams, a :class:`~ctreview.defects.DefectTracker` fed in the
``"live_defects"`` task gives the provisional ones. Nothing here runs on the
UI thread but list updates.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLineEdit, QStatusBar, QWidget

from ctreview.defects import DefectTracker, defect_note
from ctreview.errors import CtreviewError
from ctreview.gui.defects_panel import DefectsPanel, DefectStore, amount
from ctreview.gui.dialogs import show_error
from ctreview.gui.ortho_view import PlaneCursor
from ctreview.gui.review_actions import UndoGroups
from ctreview.gui.session import ReviewSession
from ctreview.gui.slice_view import SliceView
from ctreview.workers import TaskRunner
from ctreview.workers.tasks import defects_task, live_defects_task


class DefectActions:
    """The Defects dock's handlers.

    Parameters
    ----------
    session, runner, store, panel, view, cursor
        The window's parts this reads and moves.
    note : QLineEdit
        The decision bar's note, written into each decided slice's note.
    undo_groups : UndoGroups
        A defect's slices are one undoable action.
    status_bar : QStatusBar
    parent : QWidget
        Parent of the message boxes and of the timer that watches a run end.
    """

    def __init__(self, session: ReviewSession, runner: TaskRunner, store: DefectStore, panel: DefectsPanel,
                 view: SliceView, cursor: PlaneCursor, note: QLineEdit, undo_groups: UndoGroups,
                 status_bar: QStatusBar, parent: QWidget) -> None:
        self.session, self.runner, self.store, self.panel = session, runner, store, panel
        self.view, self.cursor, self.note, self.undo_groups = view, cursor, note, undo_groups
        self.status_bar, self.parent = status_bar, parent
        self.tracker: DefectTracker | None = None
        self._pending: list[tuple[int, Any]] = []
        # a cancelled run ends without a "finished" signal: notice it ended, then take the final list
        self.score_watch = QTimer(parent, interval=1000)
        self.score_watch.timeout.connect(self.watch_scoring)
        session.scores_reset.connect(self._defects_for_run)
        session.volume_changed.connect(self._volume_changed)
        session.scores_changed.connect(self._defects_streamed)
        runner.finished.connect(self._task_finished)
        store.selected.connect(self.show_defect)
        panel.decided.connect(self.decide_defect)

    def _volume_changed(self) -> None:
        self.store.clear()
        self.undo_groups.clear()  # the review state's undo starts afresh with a volume

    # -- finding ------------------------------------------------------------------
    def _defects_for_run(self) -> None:
        session, store = self.session, self.store
        self.runner.cancel("live_defects")
        self._pending = []
        self.tracker = None
        if session.run_id is None or session.volume is None:
            store.clear()
            return
        volume = session.volume
        if self.runner.is_running("score"):  # a new run streams: provisional objects as it goes
            self.tracker = DefectTracker(volume.shape, volume.spacing, origin=volume.origin)
            store.busy = True
            store.clear(session.run_id)
            self.score_watch.start()
            return
        self.load_defects()

    def load_defects(self) -> None:
        """Read (or find) the current run's defects in a worker; they replace the list when ready."""
        session, store = self.session, self.store
        if session.workspace is None or session.run_id is None or session.volume is None or self.runner.closed:
            return
        run_id, volume = session.run_id, session.volume
        store.busy = True
        if store.run_id != run_id:
            store.clear(run_id)
        self.runner.start("defects", defects_task, session.workspace, run_id, volume.shape, volume.spacing,
                          volume.origin, on_return=lambda found: self._defects_loaded(run_id, found))

    def _defects_loaded(self, run_id: int, found: list) -> None:
        if run_id != self.session.run_id:
            return
        self.store.busy = False
        self.store.set_defects(run_id, found, final=True)
        n = len(found)
        if n:
            self.status_bar.showMessage(f"{n} defect{'s' * (n != 1)} above the threshold: "
                                         "D / Shift+D step through them", 8000)

    def _defects_streamed(self, changed: list[int]) -> None:
        if self.tracker is None:
            return
        heatmaps = self.session.heatmaps  # in memory: just streamed
        self._pending += [(k, heatmaps.get(k)) for k in changed]
        self._next_live_batch()

    def _next_live_batch(self) -> None:
        if self.tracker is None or not self._pending or self.runner.is_running("live_defects"):
            return
        batch, self._pending = self._pending, []
        run_id, tracker = self.session.run_id, self.tracker
        self.runner.start("live_defects", live_defects_task, tracker, batch,
                          on_return=lambda found: self._live_defects(run_id, tracker, found))

    def _live_defects(self, run_id: int | None, tracker: Any, found: list) -> None:
        if tracker is self.tracker:
            self.store.set_defects(run_id, found, final=False)

    def _task_finished(self, name: str) -> None:
        if name == "live_defects":
            self._next_live_batch()
        elif name == "score" and self.tracker is not None:
            self._scoring_ended()
        elif name == "defects":
            self.store.busy = False

    def watch_scoring(self) -> None:
        if self.tracker is None or self.runner.closed:  # the window is closing: nothing more to load
            self.score_watch.stop()
        elif not self.runner.is_running("score"):
            self._scoring_ended()

    def _scoring_ended(self) -> None:
        """The run ended (or was cancelled): the final list is the workspace's (found there if need be)."""
        self.score_watch.stop()
        self.tracker, self._pending = None, []
        self.runner.cancel("live_defects")
        self.load_defects()

    # -- navigation ----------------------------------------------------------------
    def step_defect(self, step: int, *, wrap: bool = True) -> None:
        """Select the defect ``step`` rows down (or up) the Defects table (D / Shift+D)."""
        order = self.panel.ids_in_order()
        if not order:
            self.status_bar.showMessage("No defects in this run", 3000)
            return
        current = self.store.current
        if current not in order:
            target = order[0] if step > 0 else order[-1]
        else:
            position = order.index(current) + step
            if not wrap and not 0 <= position < len(order):
                return
            target = order[position % len(order)]
        if target == current:
            self.show_defect(target)
        self.store.select(target)

    def show_defect(self, defect_id: int) -> None:
        """Show a defect's peak slice, the crosshair on its peak and the view centred on it."""
        d = self.store.get(defect_id)
        if d is None:
            return
        self.session.set_current(d.peak_slice)
        self.cursor.set(d.peak_y, d.peak_x)
        self.view.centre_on(d.peak_y + 0.5, d.peak_x + 0.5, d.y1 - d.y0, d.x1 - d.x0)
        self.status_bar.showMessage(
            f"Defect {d.id} (rank {d.rank}): slices {d.z0}–{d.z1 - 1}, {amount(d.volume_mm3)} mm³, "
            f"⌀ {amount(d.diameter_mm)} mm, peak {d.peak:.2f} on slice {d.peak_slice}", 8000)

    # -- decisions -------------------------------------------------------------------
    def decide_defect(self, status: str) -> None:
        """Record ``status`` on every slice of the selected defect (note: ``"defect N: ..."``), then go
        to the next defect."""
        session, d = self.session, self.store.get(self.store.current)
        if d is None:
            self.status_bar.showMessage("Select a defect first (D, or click its row)", 4000)
            return
        if session.volume_id is None or session.workspace is None:
            self.status_bar.showMessage("No workspace: decisions cannot be saved", 5000)
            return
        note = defect_note(d.id, self.note.text())
        done = 0
        try:
            for k in d.slices:
                session.decide(k, status, note)
                done += 1
        except CtreviewError as exc:
            show_error(self.parent, "Decision not saved", f"{exc} ({done} of {len(d.slices)} slices saved)")
        finally:
            if done:
                self.undo_groups.push(done)
        if done == len(d.slices):
            self.status_bar.showMessage(f"Defect {d.id}: {status} on {done} slice{'s' * (done != 1)}", 5000)
            self.step_defect(1, wrap=False)
