"""The deep-feature model of normality as a scorer: distance of each patch from normal patches."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ctreview.model.features.model import FeatureModel
from ctreview.model.scorer import RunOptions, SliceInput
from ctreview.model.scorers._turn import into_frame, out_of_frame, square_side
from ctreview.model.scorers._util import to_unit


class FeatureScorer:
    """PatchCore (or PaDiM) on a frozen pretrained backbone.

    Parameters
    ----------
    model : FeatureModel
        A fitted feature model (:mod:`ctreview.model.features`).
    window : (float, float)
        Raw grey values mapped to [0, 1] (percentiles of the training ROI).
    context : bool
        Feed the context slices as extra views (the model was fitted so).
    positions : bool
        Pass each slice's height in the part (a position-aware memory bank).
    align : bool
        Turn every crop into the part's frame (its major axis along +x) before
        the backbone, and the map back: every instance then looks alike, whatever
        its pose (+0.04-0.05 slice AUROC on the dev phantoms, bench/results/features.md).
    """

    name = "features"

    def __init__(self, model: FeatureModel, window: tuple[float, float], *, context: bool = False,
                 positions: bool = False, align: bool = False) -> None:
        self.model, self.window = model, (float(window[0]), float(window[1]))
        self.context, self.positions, self.align = bool(context), bool(positions), bool(align)
        self.run = RunOptions()

    def images(self, inputs: Sequence[SliceInput]) -> list[np.ndarray]:
        """What the feature model sees: (y, x) or (views, y, x) images in [0, 1]."""
        unit = [to_unit(i.stack if self.context else i.image, self.window) for i in inputs]
        if not self.align:
            return unit
        return [_turned(u, i) for u, i in zip(unit, inputs)]

    def masks(self, inputs: Sequence[SliceInput]) -> list[np.ndarray]:
        if not self.align:
            return [i.mask for i in inputs]
        side = [square_side(i.image.shape) for i in inputs]
        return [into_frame(i.mask.astype(np.float32), i.center, i.angle, order=0, side=s) > 0.5
                for i, s in zip(inputs, side)]

    def maps(self, inputs: Sequence[SliceInput]) -> list[np.ndarray]:
        positions = [i.position for i in inputs] if self.positions else None
        scored = self.model.score(self.images(inputs), self.masks(inputs), positions,
                                  batch_pixels=self.run.batch_pixels)
        maps = [np.asarray(m, np.float32) for m in scored.maps]
        if self.align:
            maps = [out_of_frame(m, i.image.shape, i.center, i.angle) for m, i in zip(maps, inputs)]
        return maps

    def configure(self, options: RunOptions) -> None:
        """Take the run's batch size (the rest concerns the AnoGAN)."""
        self.run = options

    def slice_values(self, index: int) -> dict[str, float]:
        return {}

    def state(self) -> dict[str, torch.Tensor]:
        return self.model.state_dict()

    def config(self) -> dict[str, Any]:
        return {"family": "features", "model": self.model.config(), "window": list(self.window),
                "context": self.context, "positions": self.positions, "align": self.align,
                "bytes": self.model.nbytes}


def load(config: dict[str, Any], state: dict[str, torch.Tensor], device: torch.device) -> FeatureScorer:
    from ctreview.model.features import load_feature_model

    model = load_feature_model(config["model"], state)
    return FeatureScorer(model, tuple(config["window"]), context=bool(config.get("context")),
                         positions=bool(config.get("positions")), align=bool(config.get("align")))


def _turned(image: np.ndarray, inp: SliceInput) -> np.ndarray:
    side = square_side(inp.image.shape)
    if image.ndim == 2:
        return into_frame(image, inp.center, inp.angle, side=side)
    return np.stack([into_frame(view, inp.center, inp.angle, side=side) for view in image])
