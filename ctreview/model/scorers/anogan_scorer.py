"""AnoGAN as a scorer: the smoothed, shift-tolerant residual |x - G(E(x))| over the ROI's tiles.

With ``contrast`` the residual of a slice is compared with the residuals at
the same pixels in its context slices (their per-pixel median is taken
off): structure the generator renders badly is bad in the neighbours too,
a defect a few slices deep is not (the z-contrast of the earlier engine).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ctreview.model.anomaly import AnomalyModel
from ctreview.model.config import NetConfig
from ctreview.model.scorer import SliceInput
from ctreview.roi.stitch import stitch
from ctreview.roi.tiles import cut_tiles


class AnoganScorer:
    """An AnoGAN generator + f-AnoGAN encoder scoring tiles in ``fast`` mode (z = E(x)).

    Parameters
    ----------
    model : AnomalyModel
        Networks, intensity window, residual shift and smoothing.
    contrast : bool
        Subtract the median residual of the context slices (z-contrast).
    """

    name = "anogan"

    def __init__(self, model: AnomalyModel, *, contrast: bool = True) -> None:
        self.model, self.contrast = model, bool(contrast)

    def _residual(self, image: np.ndarray, tiles: list[tuple[int, int]]) -> np.ndarray:
        t = self.model.tile_size
        cut = cut_tiles(image, tiles, t)
        scored = self.model.score_tiles(cut, "fast", batch_size=max(64, len(cut)))
        raw = self.model.raw_maps(scored.extra["local"]).cpu().numpy()
        return stitch(raw, tiles, image.shape, None, sigma=0.0)

    def maps(self, inputs: Sequence[SliceInput]) -> list[np.ndarray]:
        out = []
        for inp in inputs:
            if not inp.tiles:
                out.append(np.zeros(inp.image.shape, np.float32))
                continue
            heat = self._residual(inp.image, inp.tiles)
            if self.contrast and len(inp.context):
                near = np.median(np.stack([self._residual(c, inp.tiles) for c in inp.context]), axis=0)
                heat = heat - near
            np.maximum(heat, 0.0, out=heat)
            heat[~inp.mask] = 0.0
            out.append(heat.astype(np.float32))
        return out

    def state(self) -> dict[str, torch.Tensor]:
        m = self.model
        tensors: dict[str, torch.Tensor] = {}
        for prefix, net in (("generator", m.generator), ("discriminator", m.discriminator), ("encoder", m.encoder)):
            tensors.update({f"{prefix}.{k}": v.detach().cpu().contiguous() for k, v in net.state_dict().items()})
        return tensors

    def config(self) -> dict[str, Any]:
        m = self.model
        return {"family": "anogan", "architecture": m.config.to_dict(), "window": list(m.window),
                "shift": m.shift, "sigma": m.sigma, "contrast": self.contrast}


def load(config: dict[str, Any], state: dict[str, torch.Tensor], device: torch.device) -> AnoganScorer:
    net = NetConfig(**config["architecture"])
    model = AnomalyModel(net, tuple(config["window"]), torch.device(device),
                         {"calibration": {"shift": config.get("shift", 1), "sigma": config.get("sigma", 1.0)}})
    for prefix, module in (("generator", model.generator), ("discriminator", model.discriminator),
                           ("encoder", model.encoder)):
        module.load_state_dict({k[len(prefix) + 1:]: v for k, v in state.items() if k.startswith(prefix + ".")},
                               strict=True)
    model.freeze()
    return AnoganScorer(model, contrast=bool(config.get("contrast", True)))
