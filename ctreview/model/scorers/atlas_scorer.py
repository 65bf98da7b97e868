"""The atlas (nominal/actual) scorer: each voxel's distance from the registered normal parts, in their spread.

Unlike the other families it needs the whole volume once before its slices:
:meth:`AtlasScorer.prepare` registers the scan onto the atlas and keeps the
residual ``|x - mean| / spread`` in the scan's voxels; :meth:`maps` then cuts
each slice's crop from it.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ctreview.atlas import Atlas, Pose, Registration, atlas_from
from ctreview.io import VolumeLike
from ctreview.model.scorer import RunOptions, SliceInput

CACHE = 3
"""Volumes whose residual is kept: calibration passes over its held-out volumes twice."""


@dataclass
class Prepared:
    """A scan registered onto the atlas: its residual and expected part (z, y, x), the part-wide level, doubts."""

    volume: VolumeLike
    part_bbox: tuple[int, ...]
    residual: np.ndarray
    level: float
    registration: Registration
    warnings: list[str]
    expected: np.ndarray


class AtlasScorer:
    """Nominal/actual comparison against an :class:`~ctreview.atlas.Atlas` of normal volumes (volumes only)."""

    name = "atlas"

    def __init__(self, atlas: Atlas) -> None:
        self.atlas = atlas
        self._cache: OrderedDict[int, Prepared] = OrderedDict()
        self._current: Prepared | None = None
        self._boxes: dict[int, tuple[int, int, int, int]] = {}

    def prepare(self, volume: VolumeLike, roi: Any) -> list[str]:
        """Register ``volume`` (at the model's scale, with its ROI) onto the atlas; return one line per doubt."""
        key = id(volume)
        found = self._cache.get(key)
        if found is None or found.volume is not volume or found.part_bbox != tuple(roi.part_bbox):
            found = self.measure(volume, roi)
            self.remember(found)
        self._cache.move_to_end(key)
        self._current = found
        return list(found.warnings)

    def measure(self, volume: VolumeLike, roi: Any) -> Prepared:
        """Register a volume and measure its residual (nothing kept)."""
        if getattr(volume, "layout", "volume") == "images":
            raise ValueError("the atlas scorer compares volumes; independent images have no atlas")
        scan = np.asarray(volume.read(0, volume.shape[0]), np.float32)
        reg = self.atlas.register_scan(scan, Pose.of_roi(roi), volume.spacing)
        resampled = self.atlas.in_scan(scan, reg, volume.spacing)
        residual, level = self.atlas.residual(scan, reg, volume.spacing, resampled=resampled)
        return Prepared(volume, tuple(roi.part_bbox), residual, level, reg, self.doubts(reg, level), resampled[0])

    def remember(self, prepared: Prepared) -> None:
        """Keep a measured volume, so preparing it again costs nothing."""
        self._cache[id(prepared.volume)] = prepared
        while len(self._cache) > CACHE:
            self._cache.popitem(last=False)

    def doubts(self, reg: Registration, level: float) -> list[str]:
        """One line when the registration failed, one when the part differs from normal parts as a whole."""
        lines = []
        if not reg.converged:
            lines.append(f"atlas: the scan did not register onto the atlas of normal parts ({reg.note}); "
                         "its atlas map is not comparable")
        limit = self.atlas.limit()
        if limit is not None and not level <= limit:
            lines.append(f"atlas: the whole part differs from the atlas of normal parts (mean residual "
                         f"{level:.2f}, normal volumes at most {max(self.atlas.normal_levels):.2f}): another "
                         "part or a failed registration; its atlas map is not comparable")
        return lines

    def maps(self, inputs: Sequence[SliceInput]) -> list[np.ndarray]:
        if self._current is None:
            raise RuntimeError("the atlas scorer needs prepare(volume, roi) before the volume's slices")
        residual = self._current.residual
        out = []
        self._boxes = {inp.index: inp.box for inp in inputs}
        for inp in inputs:
            y0, x0, y1, x1 = inp.box
            out.append(np.where(inp.mask, residual[inp.index, y0:y1, x0:x1], 0.0).astype(np.float32))
        return out

    def expected(self, index: int) -> np.ndarray | None:
        """The atlas' mean in slice ``index``'s crop of the last :meth:`maps` call: the part the scan should be.

        Raw grey values, registered into the scan's voxels (0 where the atlas does not reach); None for a
        slice that call did not have.
        """
        box = self._boxes.get(index)
        if self._current is None or box is None:
            return None
        y0, x0, y1, x1 = box
        return np.asarray(self._current.expected[index, y0:y1, x0:x1], np.float32)

    def configure(self, options: RunOptions) -> None:
        """Nothing of a run's options concerns this scorer."""

    def slice_values(self, index: int) -> dict[str, float]:
        return {}

    def state(self) -> dict[str, torch.Tensor]:
        return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in self.atlas.arrays().items()}

    def config(self) -> dict[str, Any]:
        return {"family": "atlas", "atlas": self.atlas.description()}


def load(config: dict[str, Any], state: dict[str, torch.Tensor], device: torch.device) -> AtlasScorer:
    return AtlasScorer(atlas_from(config["atlas"], {k: v.numpy() for k, v in state.items()}))
