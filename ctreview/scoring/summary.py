"""The typed summary of a scoring run, written as ``summary.json`` and kept in the workspace."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ctreview.defects import Defect, DefectSettings
from ctreview.scoring.settings import ScoringSettings

SCORE_TEXT = {
    "fused": "max over the ROI of the fused map: each scorer's map over its 1% threshold on held-out "
             "normal slices, fused per pixel",
    "z-contrast": "max over the ROI of the smoothed residual minus the median residual of the slices "
                  "a few steps away along z",
    "tile": "max over the slice's tiles of the per-pixel z-score of the smoothed residual",
}
RELATIVE_TEXT = ("score / calibrated threshold of the stage's scoring family "
                 "(1.0 = 1% of normal slices)")
HEATMAP_UNITS = "relative (local score / threshold)"


@dataclass
class RunCounts:
    """How much of the volume a run covered."""

    slices: int = 0
    roi_slices: int = 0
    tiles: int = 0
    scored_slices: int = 0
    above_threshold: int = 0


@dataclass
class RunSummary:
    """What a scoring run did and found.

    Attributes
    ----------
    model : dict
        ``path``, ``name``, ``profile``, ``tile_size``, ``created`` of the model.
    volume : dict
        ``path`` and ``shape`` (z, y, x) of the volume.
    settings : ScoringSettings
        The settings the run used, whole.
    device : str
    threshold : float
        Threshold of the first pass's scores; ``thresholds`` has every family's.
    statistic : str
        ``"z-contrast"`` or ``"tile"`` (see :data:`SCORE_TEXT`).
    timings : dict of str -> float
        Seconds per stage (``roi_s``, ``fast_s``, ``refine_s``, ``total_s``).
    counts : RunCounts
    cancelled : bool
        The run stopped early; the slices scored so far are kept.
    run_id : int or None
        The run in the workspace, when one recorded it.
    files : dict of str -> str
        Files of the run folder, when one was written.
    layout : str
        ``"volume"``, or ``"images"``: independent images, each scored at its own size.
    images : list of dict
        With independent images: ``index``, ``name`` and ``size`` (y, x) of each, in slice order.
    warnings : list of str
        What was doubtful about the input (no spacing, unrelated slices, ...).
    domain : dict
        ``{"ok", "reason", "checks"}``: the volume and the run's scores
        against the model's training domain (:mod:`ctreview.model.domain`).
    defects : list of Defect
        The 3D defect objects of the run's heatmap, worst first.
    defect_settings : DefectSettings
        How they were labelled.
    """

    model: dict[str, Any]
    volume: dict[str, Any]
    settings: ScoringSettings
    device: str
    threshold: float
    thresholds: dict[str, float]
    statistic: str
    timings: dict[str, float] = field(default_factory=dict)
    counts: RunCounts = field(default_factory=RunCounts)
    cancelled: bool = False
    run_id: int | None = None
    files: dict[str, str] = field(default_factory=dict)
    layout: str = "volume"
    warnings: list[str] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    domain: dict[str, Any] = field(default_factory=dict)
    defects: list[Defect] = field(default_factory=list)
    defect_settings: DefectSettings = field(default_factory=DefectSettings)

    @property
    def mode(self) -> str:
        return self.settings.mode

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (``summary.json``; the workspace's run summary)."""
        out = asdict(self)
        out["settings"] = self.settings.to_dict()
        out["defects"] = [d.to_dict() for d in self.defects]
        out["defect_settings"] = self.defect_settings.to_dict()
        out["mode"] = self.mode
        out["timings"] = {k: round(float(v), 3) for k, v in self.timings.items()}
        out["score"] = SCORE_TEXT.get(self.statistic, self.statistic)
        out["relative_score"] = RELATIVE_TEXT
        out["heatmap_units"] = HEATMAP_UNITS
        return out
