"""A model of format 2: several scorer families, fused and calibrated on held-out normal slices.

Each scorer (see :mod:`ctreview.model.scorer`) gives a map in its own units.
Fusion first puts every map on one scale, dividing it by that scorer's
threshold (the slice maximum that only 1 % of held-out normal slices
exceed), so 1.0 means "as unusual as the top 1 % of normal slices" for every
scorer; the scaled maps are fused (per-pixel maximum, or weighted mean); the
fused map is divided by its own held-out 1 % threshold. The result is the
heatmap in relative units. The slice score may fuse the same scaled maps
with weights of its own and take the mean of the slice's top pixels (a
slice ranking and a pixel map are different questions: the AnoGAN's map
localises defects well but its slice maxima rank normal slices poorly), over
a threshold of its own; a model without a slice rule (every model before
it) scores a slice by its heatmap's maximum. The thresholds are set on
normal slices no scorer was fitted on.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ctreview.model.meta import ModelMeta
from ctreview.model.scorer import RunOptions, Scorer, SliceInput

RULES = ("max", "mean")
CURVE_POSITIONS = np.linspace(0.0, 1.0, 11)
"""Heights in the part (0 = bottom slice, 1 = top) where the normal-level curves are given."""


@dataclass
class Fusion:
    """How the scorers' maps become one heatmap.

    Attributes
    ----------
    rule : str
        ``"max"`` or ``"mean"`` of the scaled maps, per pixel.
    scales : dict of str -> float
        Each scorer's 1 % threshold on held-out normal slices (its maps are divided by it).
    threshold : float
        The fused map's 1 % threshold on the same slices.
    fpr : float
        The share of normal slices allowed above threshold (0.01).
    normal_slices : int
        Held-out normal slices the thresholds were set on.
    curves : dict of str -> list of float
        Optional, per scorer: how much normal slices vary with their height in
        the part, at :data:`CURVE_POSITIONS` (1.0 = typical). A scorer's map is
        divided by its curve at the slice's height first, so the part's ends
        and transitions, which score higher in every normal part, do not
        outrank a defect in the middle.
    weights : dict of str -> float
        The mean's weight of each scorer in the heatmap (1.0 when absent); ``"max"`` ignores them.
    slice_weights : dict of str -> float or None
        The mean's weights of the map the slice score is taken from (1.0 when absent); None: the
        heatmap's own map.
    slice_top : int
        The slice score is the mean of the top ``slice_top`` ROI pixels of that map (1: its maximum).
    slice_threshold : float or None
        That statistic's 1 % threshold on the held-out normal slices. None (models before the slice
        rule): the slice score is the heatmap's maximum, as they were calibrated.
    """

    rule: str = "max"
    scales: dict[str, float] = field(default_factory=dict)
    threshold: float = 1.0
    fpr: float = 0.01
    normal_slices: int = 0
    curves: dict[str, list[float]] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    slice_weights: dict[str, float] | None = None
    slice_top: int = 1
    slice_threshold: float | None = None

    def level(self, name: str, position: float) -> float:
        """The normal level of scorer ``name`` at a height in the part (1.0 without a curve)."""
        curve = self.curves.get(name)
        return float(np.interp(position, CURVE_POSITIONS, curve)) if curve else 1.0

    def scaled(self, name: str, raw: np.ndarray, position: float = 0.5) -> np.ndarray:
        """A scorer's map on the common scale (1.0 = its own 1 % threshold)."""
        return raw / np.float32(max(self.scales.get(name, 1.0) * self.level(name, position), 1e-12))

    def fuse(self, scaled: dict[str, np.ndarray], weights: dict[str, float] | None = None) -> np.ndarray:
        """The fused map of scaled maps, before its own threshold (``weights``: other than the heatmap's)."""
        stack = np.stack(list(scaled.values()))
        if self.rule == "max":
            return np.asarray(stack.max(0), np.float32)
        chosen = self.weights if weights is None else weights
        w = np.array([chosen.get(name, 1.0) for name in scaled], np.float32)
        return np.asarray(np.tensordot(w / max(float(w.sum()), 1e-12), stack, axes=1), np.float32)

    def slice_statistic(self, heat: np.ndarray, scaled: dict[str, np.ndarray], mask: np.ndarray) -> float:
        """A slice's score before the slice threshold, from its heatmap and scaled maps inside ``mask``.

        Models without a slice rule: the heatmap's maximum (relative units), as they were calibrated.
        """
        if self.slice_threshold is None:
            return float(np.max(heat[mask], initial=0.0))
        fused = self.fuse(scaled, self.slice_weights) if self.slice_weights is not None else heat * self.threshold
        values = fused[mask]
        k = max(1, int(self.slice_top))
        if values.size <= k:
            return float(values.mean()) if values.size else 0.0
        return float(np.partition(values, values.size - k)[-k:].mean())

    def slice_relative(self, heat: np.ndarray, scaled: dict[str, np.ndarray], mask: np.ndarray) -> float:
        """A slice's relative score (1.0 = the slice threshold), from its heatmap and scaled maps."""
        value = self.slice_statistic(heat, scaled, mask)
        return value if self.slice_threshold is None else value / max(self.slice_threshold, 1e-12)

    def relative(self, raw: dict[str, np.ndarray], position: float = 0.5) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Return the heatmap in relative units (1.0 = threshold) and each scorer's scaled map."""
        scaled = {name: self.scaled(name, m, position) for name, m in raw.items()}
        return self.fuse(scaled) / np.float32(max(self.threshold, 1e-12)), scaled


class Detector:
    """A model of format 2: scorers + fusion + what its inputs must be.

    Attributes
    ----------
    scorers : dict of str -> Scorer
    fusion : Fusion
    offsets : tuple of int
        Context slices every input carries (empty for independent images).
    layout : str
        ``"volume"`` or ``"images"``: what the model was trained on.
    meta : dict
        ``model.json``.
    device : torch.device
    statistic : str
        ``"fused"``, or the statistic a format-1 AnoGAN was calibrated with.
    notes : list of str
        What the user should know about how the model is scored (one line each).
    run_warnings : list of str
        What the scorers doubted about the volume last prepared (:meth:`prepare`).
    """

    statistic: str = "fused"

    def __init__(self, scorers: dict[str, Scorer], fusion: Fusion, *, offsets: Sequence[int] = (),
                 layout: str = "volume", profile: str = "whole-part", tile_size: int = 64,
                 meta: ModelMeta | None = None, device: torch.device | str = "cpu") -> None:
        if fusion.rule not in RULES:
            raise ValueError(f"fusion rule must be one of {RULES}")
        self.scorers, self.fusion = dict(scorers), fusion
        self.offsets = tuple(int(o) for o in offsets)
        self.layout, self._profile, self._tile_size = layout, profile, int(tile_size)
        self.meta = dict(meta or {})
        self.device = torch.device(device)
        self.notes: list[str] = []
        self.run_warnings: list[str] = []

    @property
    def path(self) -> Path | None:
        folder = self.meta.get("_dir")
        return Path(folder) if folder else None

    @property
    def profile(self) -> str:
        return self._profile

    @property
    def tile_size(self) -> int:
        return self._tile_size

    @property
    def threshold(self) -> float:
        """The slice score's threshold (raw slice scores are on the scorers' common scale)."""
        return self.fusion.threshold if self.fusion.slice_threshold is None else self.fusion.slice_threshold

    def threshold_for(self, mode: str) -> float:
        """Every mode scores with the one slice threshold."""
        return self.threshold

    def score(self, inputs: Sequence[SliceInput]) -> list[tuple[np.ndarray, dict[str, np.ndarray]]]:
        """Heatmap (relative units) and scaled per-scorer maps of each input, crop-sized."""
        raw = {name: scorer.maps(inputs) for name, scorer in self.scorers.items()}
        return [self.fusion.relative({name: raw[name][i] for name in raw}, inp.position)
                for i, inp in enumerate(inputs)]

    def prepare(self, volume: Any, roi: Any) -> list[str]:
        """Give the scorers that need the whole volume (:class:`~ctreview.model.scorer.VolumeStep`) their step.

        Called before a volume's first slice; returns, and keeps in
        :attr:`run_warnings`, one line per doubt they have about the volume.
        """
        lines: list[str] = []
        for scorer in self.scorers.values():
            step = getattr(scorer, "prepare", None)
            if step is not None:
                lines += step(volume, roi)
        self.run_warnings = lines
        return lines

    def configure(self, options: RunOptions) -> None:
        """Hand a run's options to every scorer (before it scores), in units of this model's tiles."""
        options = replace(options, tile_size=self.tile_size)
        for scorer in self.scorers.values():
            scorer.configure(options)

    EXPECTING = ("atlas", "anogan")
    """Scorers asked, in this order, for the slice they expected (:meth:`expected`)."""

    def expected(self, index: int) -> np.ndarray | None:
        """The crop ``(y, x)`` the model expected for slice ``index`` in the last :meth:`score`, or None.

        Raw grey values; the first of :attr:`EXPECTING` that draws one gives it.
        """
        for name in self.EXPECTING:
            draw = getattr(self.scorers.get(name), "expected", None)
            image = draw(index) if callable(draw) else None
            if image is not None:
                return np.asarray(image, np.float32)
        return None

    def slice_values(self, index: int) -> dict[str, float]:
        """What the scorers measured of slice ``index`` besides their maps, in the last :meth:`score` call."""
        values: dict[str, float] = {}
        for scorer in self.scorers.values():
            values.update(scorer.slice_values(index))
        return values

    def raw_maps(self, inputs: Sequence[SliceInput]) -> dict[str, list[np.ndarray]]:
        """Each scorer's maps in its own units (what calibration sets the scales on)."""
        return {name: scorer.maps(inputs) for name, scorer in self.scorers.items()}

    def description(self) -> dict[str, Any]:
        """The ``detector`` block of ``model.json``."""
        return {"scorers": {name: s.config() for name, s in self.scorers.items()},
                "fusion": asdict(self.fusion), "offsets": list(self.offsets), "layout": self.layout,
                "profile": self.profile, "tile_size": self.tile_size}

    def tensors(self) -> dict[str, torch.Tensor]:
        """Every scorer's state, prefixed by its name (what ``weights.safetensors`` holds)."""
        out: dict[str, torch.Tensor] = {}
        for name, scorer in self.scorers.items():
            out.update({f"{name}.{k}": v.detach().cpu().contiguous() for k, v in scorer.state().items()})
        return out


def detector_from(meta: ModelMeta, tensors: dict[str, torch.Tensor], device: torch.device) -> Detector:
    """Rebuild a :class:`Detector` from ``model.json`` and the weights file's tensors."""
    from ctreview.model.scorers import load_scorer

    block = meta["detector"]
    scorers = {}
    for name, config in block["scorers"].items():
        state = {k[len(name) + 1:]: v for k, v in tensors.items() if k.startswith(name + ".")}
        scorers[name] = load_scorer(name, config, state, device)
    fusion = Fusion(**block["fusion"])
    return Detector(scorers, fusion, offsets=block.get("offsets", ()), layout=block.get("layout", "volume"),
                    profile=block.get("profile", meta.get("profile", "whole-part")),
                    tile_size=int(block.get("tile_size", 64)), meta=meta, device=device)
