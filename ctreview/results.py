"""Plain result types passed between the core, the workers, the store and the GUI."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

Box = tuple[int, int, int, int]
"""A box in slice pixel coordinates ``(y0, x0, y1, x1)``, half-open."""


@dataclass
class SliceResult:
    """The anomaly score of one slice.

    A scoring stream may yield several results for one slice (``stage``
    ``"fast"`` then ``"refined"`` in hybrid mode): the later one supersedes
    the earlier.

    Attributes
    ----------
    index : int
        Slice index z.
    score : float
        Raw anomaly score: the maximum over the slice's ROI tiles.
    relative : float
        ``score / threshold`` of the model's calibration; above 1.0 is suspicious.
    tile_box : Box
        The highest-scoring tile ``(y0, x0, y1, x1)``.
    boxes : list of Box
        The slice's ROI boxes.
    heatmap : ndarray, shape (y, x), float32
        Residual map stitched into slice coordinates, zero outside the ROI.
    tile_scores : ndarray, shape (n_tiles,), float32
        Score of every ROI tile, in the ROI's tile order.
    stage : str
        ``"fast"``, ``"anogan"`` or ``"refined"``.
    """

    index: int
    score: float
    relative: float
    tile_box: Box
    boxes: list[Box]
    heatmap: np.ndarray
    tile_scores: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    stage: str = "fast"


DECISIONS = ("accept", "flag", "unsure")
"""The review decisions a slice can get."""
