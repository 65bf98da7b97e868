"""What one scoring run keeps while it goes (private to the scoring passes)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ctreview.results import SliceResult


@dataclass
class _ScoringState:
    """Mutable state of one run, shared by its passes.

    Attributes
    ----------
    timings : dict of str -> float
        Seconds per stage.
    cancelled : bool
        A stop request ended a pass early.
    tiles : int
        Tiles scored in the first pass.
    first : dict of int -> (float, ndarray)
        Per slice: the first pass's relative score and its tiles' latents ``(n, d)``.
    refined : int
        Slices re-scored by latent search.
    latest : dict of int -> float
        Per slice: the relative score of its latest result (what a reader keeps).
    """

    timings: dict[str, float] = field(default_factory=dict)
    cancelled: bool = False
    tiles: int = 0
    first: dict[int, tuple[float, np.ndarray]] = field(default_factory=dict)
    refined: int = 0
    latest: dict[int, float] = field(default_factory=dict)

    def note(self, result: SliceResult, latents: np.ndarray, first_pass: bool) -> None:
        """Record a result the stream is about to yield."""
        if first_pass:
            self.first[result.index] = (float(result.relative), latents)
        else:
            self.refined += 1
        self.latest[result.index] = float(result.relative)

    @property
    def above_threshold(self) -> int:
        """Slices whose latest relative score is at least 1."""
        return sum(1 for r in self.latest.values() if r >= 1.0)
