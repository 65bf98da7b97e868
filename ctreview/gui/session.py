"""The review state of one open volume, shared by every widget of the window.

Widgets are handed a :class:`ReviewSession` and subscribe to its signals;
user input calls its methods. Widgets never poke each other. Decisions go
straight to the workspace (committed before :meth:`ReviewSession.decide`
returns); scores arrive in batches from the scoring worker.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np
from PySide6.QtCore import QObject, Signal

from ctreview.results import Box, SliceResult


@dataclass
class SliceScore:
    """What the window keeps of one scored slice (the heatmap lives in a cache)."""

    index: int
    score: float
    relative: float
    tile_box: Box
    boxes: list[Box] = field(default_factory=list)
    heat_max: float = 0.0


class HeatmapCache:
    """Most recently used heatmaps in memory, within a byte budget.

    Older ones are dropped; the session re-reads them from the workspace.
    """

    def __init__(self, budget_bytes: int = 512 * 2**20) -> None:
        self.budget = budget_bytes
        self._maps: OrderedDict[int, np.ndarray] = OrderedDict()
        self._bytes = 0

    def put(self, index: int, heatmap: np.ndarray) -> None:
        """Store the ``(y, x)`` heatmap of slice ``index`` (float32, within the byte budget).

        Not float16: NumPy converts to float16 without SIMD, which cost the
        UI thread ~0.25 ms per 128x128 slice, ~13 ms for a streamed batch.
        """
        self.drop(index)
        array = np.asarray(heatmap, dtype=np.float32)
        self._maps[index] = array
        self._bytes += array.nbytes
        while self._bytes > self.budget and len(self._maps) > 1:
            _, old = self._maps.popitem(last=False)
            self._bytes -= old.nbytes

    def get(self, index: int) -> np.ndarray | None:
        array = self._maps.get(index)
        if array is not None:
            self._maps.move_to_end(index)
        return array

    def drop(self, index: int) -> None:
        old = self._maps.pop(index, None)
        if old is not None:
            self._bytes -= old.nbytes

    def clear(self) -> None:
        self._maps.clear()
        self._bytes = 0


class ReviewSession(QObject):
    """Volume, scores, decisions and the current slice of the window.

    Signals
    -------
    volume_changed()
        A new volume (and a fresh, empty score table) is in place.
    scores_changed(list)
        The slice indices whose scores were added or replaced.
    scores_reset()
        All scores were dropped (a new run starts).
    decision_changed(int)
        The decision of one slice changed (decided or undone).
    threshold_changed(float)
        The relative score threshold changed.
    current_changed(int)
        The slice on screen changed.
    roi_changed()
        The part and its ROIs were found (or found again for another model).
    """

    volume_changed = Signal()
    scores_changed = Signal(list)
    scores_reset = Signal()
    decision_changed = Signal(int)
    threshold_changed = Signal(float)
    current_changed = Signal(int)
    roi_changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.workspace: Any = None
        self.volume: Any = None
        self.volume_id: int | None = None
        self.run_id: int | None = None
        self.roi: Any = None
        self.roi_model: str | None = None
        self.value_range: tuple[float, float] | None = None
        self.scores: dict[int, SliceScore] = {}
        self.decisions: dict[int, dict] = {}
        self.heatmaps = HeatmapCache()
        self.threshold = 1.0
        self.current = 0
        self._undo: list[int] = []

    # -- volume and scores --------------------------------------------------
    def set_volume(self, volume: Any, volume_id: int | None = None) -> None:
        """Show ``volume``; with a ``volume_id``, load its decisions and latest run."""
        self.volume, self.volume_id = volume, None
        self.run_id, self.roi, self.roi_model, self.value_range = None, None, None, None
        self.scores.clear()
        self.heatmaps.clear()
        self._undo.clear()
        self.decisions = {}
        self.current = len(volume) // 2 if volume is not None else 0
        self.volume_changed.emit()
        self.current_changed.emit(self.current)
        if volume_id is not None:
            self.attach(volume_id)

    def attach(self, volume_id: int) -> None:
        """Link the volume to its workspace record: its decisions and latest run come back."""
        self.volume_id = volume_id
        if self.workspace is not None:
            self.decisions = dict(self.workspace.decisions(volume_id))
            self._load_latest_run()
        self.scores_reset.emit()

    def set_roi(self, roi: Any, model_path: str | None) -> None:
        """Keep the ROI found for the model at ``model_path`` (scoring reuses it)."""
        first = self.roi is None
        self.roi, self.roi_model = roi, model_path
        self.current_changed.emit(self.current)
        if first:
            self.roi_changed.emit()

    def _load_latest_run(self) -> None:
        run_id = self.workspace.latest_run(self.volume_id)
        if run_id is None:
            return
        self.run_id = run_id
        for row in self.workspace.run_scores(run_id):
            self.scores[int(row["slice"])] = SliceScore(
                int(row["slice"]), float(row["score"]), float(row["relative"]),
                tuple(row.get("tile_box") or (0, 0, 0, 0)), list(row.get("boxes") or []))

    def start_run(self, run_id: int) -> None:
        """Drop the shown scores: a new run of ``run_id`` fills them again."""
        self.run_id = run_id
        self.scores.clear()
        self.heatmaps.clear()
        self.scores_reset.emit()

    def add_results(self, results: Iterable[SliceResult]) -> None:
        """Take a batch of results; a later result for a slice replaces the earlier."""
        changed = []
        for result in results:
            heat = np.asarray(result.heatmap, dtype=np.float32)
            self.scores[result.index] = SliceScore(
                result.index, float(result.score), float(result.relative),
                tuple(result.tile_box), list(result.boxes), float(heat.max(initial=0.0)))
            self.heatmaps.put(result.index, heat)
            changed.append(result.index)
        if changed:
            self.scores_changed.emit(changed)

    def heatmap(self, index: int) -> np.ndarray | None:
        """Return the ``(y, x)`` heatmap of slice ``index``, or None if not scored."""
        cached = self.heatmaps.get(index)
        if cached is not None or index not in self.scores:
            return cached
        if self.workspace is not None and self.run_id is not None:
            heatmap = self.workspace.heatmap(self.run_id, index)
            if heatmap is not None:
                self.heatmaps.put(index, heatmap)
                return self.heatmaps.get(index)
        return None

    # -- navigation ---------------------------------------------------------
    def set_current(self, index: int) -> None:
        if self.volume is None:
            return
        index = int(np.clip(index, 0, len(self.volume) - 1))
        if index != self.current:
            self.current = index
            self.current_changed.emit(index)

    def set_threshold(self, value: float) -> None:
        value = float(value)
        if value != self.threshold:
            self.threshold = value
            self.threshold_changed.emit(value)

    # -- decisions ----------------------------------------------------------
    def decide(self, index: int, status: str, note: str = "") -> dict:
        """Record a decision for slice ``index`` in the workspace (committed on return)."""
        row = self.workspace.decide(self.volume_id, int(index), status, note,
                                    run_id=self.run_id)
        self.decisions[int(index)] = row
        self._undo.append(int(index))
        self.decision_changed.emit(int(index))
        return row

    def can_undo(self) -> bool:
        return bool(self._undo)

    def undo(self) -> int | None:
        """Revert the last decision made in this session; return its slice."""
        if not self._undo:
            return None
        index = self._undo.pop()
        row = self.workspace.undo(self.volume_id, index)
        if row["status"] in ("accept", "flag", "unsure"):
            self.decisions[index] = row
        else:
            self.decisions.pop(index, None)
        self.decision_changed.emit(index)
        return index

    def status(self, index: int) -> str:
        """Return the slice's decision status, or ``""`` when unreviewed."""
        row = self.decisions.get(index)
        return row["status"] if row else ""
