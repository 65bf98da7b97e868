"""Plain result types passed between the core, the workers, the store and the GUI."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

Box = tuple[int, int, int, int]
"""A box in slice pixel coordinates ``(y0, x0, y1, x1)``, half-open."""

NAN = float("nan")


@dataclass
class SliceResult:
    """The anomaly score of one slice, as a scoring stream yields it.

    A scoring stream may yield several results for one slice (``stage``
    ``"fast"`` then ``"refined"`` in hybrid mode): the later one supersedes
    the earlier.

    Attributes
    ----------
    index : int
        Slice index z.
    score : float
        Raw anomaly score of the slice (its ranking statistic).
    relative : float
        ``score / threshold`` of the model's calibration; above 1.0 is suspicious.
    tile_box : Box
        The highest-scoring tile ``(y0, x0, y1, x1)``.
    boxes : list of Box
        The slice's ROI boxes.
    heatmap : ndarray, shape (y, x), float32
        Relative local score in slice coordinates, zero outside the ROI.
    tile_scores : ndarray, shape (n_tiles,), float32
        Score of every ROI tile, in the ROI's tile order.
    stage : str
        ``"fast"``, ``"anogan"`` or ``"refined"``.
    paper : float
        AnoGAN's paper score (Schlegl et al.), for comparison with the map statistic:
        a fused model's AnoGAN scorer gives the loss at the final z summed over the
        slice's tiles; the format-1 passes give that of the slice's worst tile.
    paper_relative : float
        ``paper`` over its own calibrated threshold (NaN when uncalibrated).
    maps : dict of str -> ndarray, each (y, x) float32
        A fused model's per-scorer maps, each over its own 1 % threshold (empty otherwise).
    expected : ndarray, shape (y, x), float32, or None
        What the model expected the slice to look like, in the scan's grey values
        inside the ROI and 0 outside it (the AnoGAN's reconstruction), or None when
        no scorer of the model draws one.
    """

    index: int
    score: float
    relative: float
    tile_box: Box
    boxes: list[Box]
    heatmap: np.ndarray
    tile_scores: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    stage: str = "fast"
    paper: float = NAN
    paper_relative: float = NAN
    maps: dict[str, np.ndarray] = field(default_factory=dict)
    expected: np.ndarray | None = None

    def summary(self) -> SliceScore:
        """Return what is kept of this result once its heatmap is stored elsewhere."""
        heat = self.heatmap
        heat_max = float(np.max(heat)) if heat is not None and heat.size else 0.0
        return SliceScore(int(self.index), float(self.score), float(self.relative),
                          tuple(int(v) for v in self.tile_box),  # type: ignore[arg-type]
                          [tuple(int(v) for v in b) for b in self.boxes],  # type: ignore[misc]
                          str(self.stage), _known(self.paper), _known(self.paper_relative),
                          heat_max, int(len(self.tile_scores)))


@dataclass(frozen=True)
class SliceScore:
    """One scored slice without its pixels: what the store, the window and reports keep.

    Attributes
    ----------
    index, score, relative, tile_box, boxes, stage
        As in :class:`SliceResult`.
    paper, paper_relative : float or None
        As in :class:`SliceResult`; None when not known (so scores compare equal).
    heat_max : float
        Largest value of the slice's heatmap (0 when unknown).
    n_tiles : int
        ROI tiles the slice was scored on (0 when unknown).
    """

    index: int
    score: float
    relative: float
    tile_box: Box = (0, 0, 0, 0)
    boxes: list[Box] = field(default_factory=list)
    stage: str = "fast"
    paper: float | None = None
    paper_relative: float | None = None
    heat_max: float = 0.0
    n_tiles: int = 0

    @property
    def above(self) -> bool:
        """Whether the slice is above its calibrated threshold (relative >= 1)."""
        return math.isfinite(self.relative) and self.relative >= 1.0


def _known(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


DECISIONS = ("accept", "flag", "unsure")
"""The review decisions a slice can get."""
