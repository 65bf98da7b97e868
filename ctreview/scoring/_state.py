"""What one scoring run keeps while it goes (private to the scoring pass)."""
from __future__ import annotations

from dataclasses import dataclass, field

from ctreview.results import SliceResult


@dataclass
class _ScoringState:
    """Mutable state of one run.

    Attributes
    ----------
    timings : dict of str -> float
        Seconds per stage.
    cancelled : bool
        A stop request ended the pass early.
    tiles : int
        Model tiles in the scored slices' ROIs.
    latest : dict of int -> float
        Per slice: the relative score of its latest result (what a reader keeps).
    """

    timings: dict[str, float] = field(default_factory=dict)
    cancelled: bool = False
    tiles: int = 0
    latest: dict[int, float] = field(default_factory=dict)

    def note(self, result: SliceResult, tiles: int) -> None:
        """Record a result the stream is about to yield, of a slice with ``tiles`` model tiles."""
        self.latest[result.index] = float(result.relative)
        self.tiles += int(tiles)

    @property
    def above_threshold(self) -> int:
        """Slices whose latest relative score is at least 1."""
        return sum(1 for r in self.latest.values() if r >= 1.0)
