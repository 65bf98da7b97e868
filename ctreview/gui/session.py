"""The window's handle on the review state: a QObject that re-emits it as Qt signals.

Widgets are handed a :class:`ReviewSession` and subscribe to its signals;
user input calls its methods. Widgets never poke each other. The state and
its rules (decide, undo, ranking, heatmaps in memory) live in the Qt-free
:class:`ctreview.review.ReviewState`; this adapter only bridges events to
signals, so queued connections and Qt's object lifetimes apply.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal

from ctreview.review.state import ReviewState

_SETTABLE = ("workspace", "value_range")


class ReviewSession(QObject):
    """Volume, scores, decisions and the current slice of the window (see :class:`ReviewState`).

    Signals
    -------
    volume_changed(), scores_changed(list), scores_reset(), decision_changed(int),
    threshold_changed(float), current_changed(int), roi_changed(), maps_changed()
        The state's events, as Qt signals.
    """

    volume_changed = Signal()
    scores_changed = Signal(list)
    scores_reset = Signal()
    decision_changed = Signal(int)
    threshold_changed = Signal(float)
    current_changed = Signal(int)
    roi_changed = Signal()
    maps_changed = Signal()

    def __init__(self, parent: QObject | None = None, state: ReviewState | None = None) -> None:
        super().__init__(parent)
        self.state = state or ReviewState()
        for name in ("volume_changed", "scores_changed", "scores_reset", "decision_changed",
                     "threshold_changed", "current_changed", "roi_changed", "maps_changed"):
            getattr(self.state, name).connect(getattr(self, name).emit)

    def __getattr__(self, name: str) -> Any:
        # Only reached for names QObject does not have: the state's data and methods.
        if name.startswith("_") or "state" not in self.__dict__:
            raise AttributeError(name)
        return getattr(self.__dict__["state"], name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _SETTABLE:
            setattr(self.state, name, value)
        else:
            super().__setattr__(name, value)
