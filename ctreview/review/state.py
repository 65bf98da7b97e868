"""The review state of one open volume, without Qt: scores, decisions, undo, the current slice.

The window wraps a :class:`ReviewState` in a thin QObject (``gui/session.py``)
that re-emits its events as Qt signals; tests and scripts use it as it is.
Decisions go straight to the workspace (committed before :meth:`decide`
returns). Whatever needs a database query (a volume's decisions, its
latest run) is read by the caller in a worker and handed to :meth:`attach`.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from ctreview.errors import CtreviewError
from ctreview.results import SliceResult, SliceScore
from ctreview.review.ranking import rank_slices

if TYPE_CHECKING:
    from ctreview.io import VolumeLike
    from ctreview.review.workspace import Workspace
    from ctreview.roi import RoiResult


class Event:
    """A minimal signal: callbacks connected to it run, in order, on :meth:`emit`."""

    def __init__(self) -> None:
        self._slots: list[Callable[..., Any]] = []

    def connect(self, slot: Callable[..., Any]) -> None:
        self._slots.append(slot)

    def disconnect(self, slot: Callable[..., Any]) -> None:
        self._slots.remove(slot)

    def emit(self, *args: Any) -> None:
        for slot in list(self._slots):
            slot(*args)


FUSED = "fused"
"""The name of the map a run stores and shows by default (a fused model's fusion, or the only one)."""
SCORER_MAP_BUDGET = 128 * 2**20
"""Bytes of each scorer's own maps kept in memory (the most recently scored slices)."""


class RecentHeatmaps:
    """The most recently used heatmaps in memory, within a byte budget; older ones are dropped.

    Not float16: NumPy converts to float16 without SIMD, which cost the UI
    thread ~0.25 ms per 128x128 slice, ~13 ms for a streamed batch.
    """

    def __init__(self, budget_bytes: int = 512 * 2**20) -> None:
        self.budget = budget_bytes
        self._maps: OrderedDict[int, np.ndarray] = OrderedDict()
        self._bytes = 0

    def put(self, index: int, heatmap: np.ndarray) -> None:
        """Keep the ``(y, x)`` heatmap of slice ``index`` (float32)."""
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


class ReviewState:
    """Volume, scores, decisions and the current slice of one review.

    Events (each an :class:`Event`)
    -------------------------------
    volume_changed()
        A new volume (and a fresh, empty score table) is in place.
    scores_changed(list of int)
        Slices whose scores were added or replaced.
    scores_reset()
        All scores were replaced (a new run, or a volume's stored run).
    decision_changed(int)
        One slice's decision changed (decided or undone).
    threshold_changed(float)
    current_changed(int)
        The slice on screen changed.
    roi_changed()
        The part and its ROIs were found (or found again for another model).
    maps_changed()
        The scorers with a map of their own, or the map shown, changed.
    """

    def __init__(self) -> None:
        self.volume_changed, self.scores_changed, self.scores_reset = Event(), Event(), Event()
        self.decision_changed, self.threshold_changed = Event(), Event()
        self.current_changed, self.roi_changed, self.maps_changed = Event(), Event(), Event()
        self.workspace: Workspace | None = None
        self.volume: VolumeLike | None = None
        self.volume_id: int | None = None
        self.run_id: int | None = None
        self.roi: RoiResult | None = None
        self.roi_model: str | None = None
        self.value_range: tuple[float, float] | None = None
        self.scores: dict[int, SliceScore] = {}
        self.decisions: dict[int, dict[str, Any]] = {}
        self.heatmaps = RecentHeatmaps()
        # a fused model's scorers' own maps, from the live run only (the workspace keeps the fused map)
        self.scorer_maps: dict[str, RecentHeatmaps] = {}
        # the slices the model expected (its reconstruction), from the live run; the workspace keeps them too
        self.expected_images = RecentHeatmaps(SCORER_MAP_BUDGET)
        self.shown_map = FUSED
        self.threshold = 1.0
        self.current = 0
        self._undo: list[int] = []

    # -- volume and scores --------------------------------------------------
    def set_volume(self, volume: VolumeLike | None) -> None:
        """Show ``volume`` with nothing known about it yet (see :meth:`attach`)."""
        self.volume, self.volume_id = volume, None
        self.run_id, self.roi, self.roi_model, self.value_range = None, None, None, None
        self.scores.clear()
        self.heatmaps.clear()
        self.expected_images.clear()
        self._drop_scorer_maps()
        self._undo.clear()
        self.decisions = {}
        self.current = len(volume) // 2 if volume is not None else 0
        self.volume_changed.emit()
        self.current_changed.emit(self.current)

    def attach(self, volume_id: int, decisions: dict[int, dict[str, Any]] | None = None, run_id: int | None = None,
               scores: Iterable[SliceScore] = ()) -> None:
        """Link the volume to its workspace record: its decisions and latest run's scores."""
        self.volume_id = volume_id
        self.decisions = dict(decisions or {})
        self.run_id = run_id
        self.scores = {s.index: s for s in scores}
        self.scores_reset.emit()

    def set_roi(self, roi: RoiResult | None, model_path: str | None) -> None:
        """Keep the ROI found for the model at ``model_path`` (scoring reuses it)."""
        first = self.roi is None
        self.roi, self.roi_model = roi, model_path
        self.current_changed.emit(self.current)
        if first:
            self.roi_changed.emit()

    def start_run(self, run_id: int | None) -> None:
        """Drop the shown scores: a new run fills them again."""
        self.run_id = run_id
        self.scores.clear()
        self.heatmaps.clear()
        self.expected_images.clear()
        self._drop_scorer_maps()
        self.scores_reset.emit()

    def add_results(self, results: Iterable[SliceResult]) -> None:
        """Take a batch of results; a later result for a slice replaces the earlier."""
        changed, names = [], len(self.scorer_maps)
        for result in results:
            self.scores[result.index] = result.summary()
            self.heatmaps.put(result.index, result.heatmap)
            if result.expected is not None:
                self.expected_images.put(result.index, result.expected)
            for name, m in (result.maps or {}).items():
                self.scorer_maps.setdefault(name, RecentHeatmaps(SCORER_MAP_BUDGET)).put(result.index, m)
            changed.append(result.index)
        if len(self.scorer_maps) != names:
            self.maps_changed.emit()
        if changed:
            self.scores_changed.emit(changed)

    def map_names(self) -> list[str]:
        """The maps the heatmap can show: ``"fused"`` (always), then each scorer's of the live run."""
        return [FUSED, *sorted(self.scorer_maps)]

    def set_shown_map(self, name: str) -> None:
        """Show one scorer's own map (of the live run) instead of the fused one; ``"fused"`` goes back."""
        if name not in self.map_names():
            raise ValueError(f"no map {name!r}: {', '.join(self.map_names())}")
        if name != self.shown_map:
            self.shown_map = name
            self.maps_changed.emit()

    def _drop_scorer_maps(self) -> None:
        had = bool(self.scorer_maps) or self.shown_map != FUSED
        self.scorer_maps, self.shown_map = {}, FUSED
        if had:
            self.maps_changed.emit()

    def heatmap(self, index: int) -> np.ndarray | None:
        """Return the ``(y, x)`` heatmap of slice ``index`` (the map shown), or None if not scored."""
        if self.shown_map != FUSED:
            return self.scorer_maps[self.shown_map].get(index)
        return self._kept(self.heatmaps, index, "heatmap")

    def expected(self, index: int) -> np.ndarray | None:
        """The ``(y, x)`` slice the model expected at ``index`` (grey values, 0 outside the ROI), or None."""
        return self._kept(self.expected_images, index, "expected")

    def _kept(self, cache: RecentHeatmaps, index: int, stored: str) -> np.ndarray | None:
        """A scored slice's image from ``cache``, else from the workspace's ``stored`` images (then cached)."""
        cached = cache.get(index)
        if cached is not None or index not in self.scores:
            return cached
        if self.workspace is not None and self.run_id is not None:
            image = getattr(self.workspace, stored)(self.run_id, index)
            if image is not None:
                cache.put(index, image)
                return cache.get(index)
        return None

    def ranked(self) -> list[int]:
        """Scored slices, most suspicious first."""
        return rank_slices(self.scores.values())

    def above_threshold(self) -> int:
        """Scored slices at or above the current threshold."""
        return sum(1 for s in self.scores.values() if s.relative >= self.threshold)

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
    def decide(self, index: int, status: str, note: str = "") -> dict[str, Any]:
        """Record a decision for slice ``index`` in the workspace (committed on return)."""
        workspace, volume_id = self._record()
        row: dict[str, Any] = workspace.decide(volume_id, int(index), status, note, run_id=self.run_id)
        self.decisions[int(index)] = row
        self._undo.append(int(index))
        self.decision_changed.emit(int(index))
        return row

    def _record(self) -> tuple[Workspace, int]:
        """The workspace and the volume's id in it: a decision needs both."""
        if self.workspace is None or self.volume_id is None:
            raise CtreviewError(None, "the volume is not attached to a workspace: decisions cannot be saved")
        return self.workspace, self.volume_id

    def can_undo(self) -> bool:
        return bool(self._undo)

    def undo(self) -> int | None:
        """Revert the last decision made in this review; return its slice."""
        if not self._undo:
            return None
        workspace, volume_id = self._record()
        index = self._undo.pop()
        row = workspace.undo(volume_id, index)
        if row["status"] in ("accept", "flag", "unsure"):
            self.decisions[index] = row
        else:
            self.decisions.pop(index, None)
        self.decision_changed.emit(index)
        return index

    def status(self, index: int) -> str:
        """Return the slice's decision status, or ``""`` when unreviewed."""
        row = self.decisions.get(index)
        return str(row["status"]) if row else ""
