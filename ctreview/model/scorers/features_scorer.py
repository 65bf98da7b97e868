"""The deep-feature model of normality as a scorer: distance of each patch from normal patches."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ctreview.model.feat_model import FeatureModel
from ctreview.model.scorer import SliceInput
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
    """

    name = "features"

    def __init__(self, model: FeatureModel, window: tuple[float, float], *, context: bool = False,
                 positions: bool = False) -> None:
        self.model, self.window = model, (float(window[0]), float(window[1]))
        self.context, self.positions = bool(context), bool(positions)

    def images(self, inputs: Sequence[SliceInput]) -> list[np.ndarray]:
        """What the feature model sees: (y, x) or (views, y, x) images in [0, 1]."""
        return [to_unit(i.stack if self.context else i.image, self.window) for i in inputs]

    def maps(self, inputs: Sequence[SliceInput]) -> list[np.ndarray]:
        positions = [i.position for i in inputs] if self.positions else None
        scored = self.model.score(self.images(inputs), [i.mask for i in inputs], positions)
        return [np.asarray(m, np.float32) for m in scored.maps]

    def state(self) -> dict[str, torch.Tensor]:
        return self.model.state_dict()

    def config(self) -> dict[str, Any]:
        return {"family": "features", "model": self.model.config(), "window": list(self.window),
                "context": self.context, "positions": self.positions, "bytes": self.model.nbytes}


def load(config: dict, state: dict[str, torch.Tensor], device: Any) -> FeatureScorer:
    from ctreview.model.features import load_feature_model

    model = load_feature_model(config["model"], state)
    return FeatureScorer(model, tuple(config["window"]), context=bool(config.get("context")),
                         positions=bool(config.get("positions")))
