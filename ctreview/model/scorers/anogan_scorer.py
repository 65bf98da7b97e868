"""The unconditioned DCGAN AnoGAN as a scorer: the smoothed, shift-tolerant residual |x - G(z)| over the ROI's tiles.

Two models hold it: the first fused models (variant ``unconditioned``) and
every AnoGAN model of format 1, which loads as a fused model with this one
scorer (:mod:`ctreview.model.anogan.format1`). It scores with the statistic its
model was calibrated with:

* ``z-contrast``: a slice's residual minus the per-pixel median of the
  residuals at the same pixels in its context slices (structure the
  generator renders badly is bad in the neighbours too, a defect a few
  slices deep is not);
* ``tile``: each tile's residual as a z-score against the per-pixel mean and
  spread that held-out normal tiles showed (models trained from tiles alone);
* ``residual``: the residual alone (a fused model's scorer without context).

``z = E(x)``, refined by ``depth`` latent-search steps when a run asks for them.
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ctreview.model.anogan.anomaly import AnomalyModel
from ctreview.model.config import NetConfig
from ctreview.model.scorer import RunOptions, SliceInput
from ctreview.roi.stitch import stitch
from ctreview.roi.tiles import cut_tiles

STATISTICS = ("z-contrast", "tile", "residual")
CACHE = 32
"""Encoder residual maps kept: a slice's map serves it and, as context, its neighbours (about 2 x 6 + 8)."""


class AnoganScorer:
    """An AnoGAN generator + f-AnoGAN encoder scoring the ROI's tiles.

    Parameters
    ----------
    model : AnomalyModel
        Networks, intensity window, residual shift and smoothing, per-tile calibration.
    contrast : bool
        Subtract the median residual of the context slices (z-contrast).
    statistic : str, optional
        One of :data:`STATISTICS`; by default ``z-contrast`` with ``contrast``, else ``residual``.
    """

    name = "anogan"

    def __init__(self, model: AnomalyModel, *, contrast: bool = True, statistic: str | None = None) -> None:
        self.model = model
        self.statistic = statistic or ("z-contrast" if contrast else "residual")
        if self.statistic not in STATISTICS:
            raise ValueError(f"statistic must be one of {STATISTICS}, not {self.statistic!r}")
        self.contrast = self.statistic == "z-contrast"
        self.run = RunOptions()
        self._values: dict[int, dict[str, float]] = {}
        self._cache: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._papers: dict[bytes, float] = {}

    def configure(self, options: RunOptions) -> None:
        self.run = options
        self._cache.clear()
        self._papers.clear()

    def slice_values(self, index: int) -> dict[str, float]:
        return dict(self._values.get(int(index), {}))

    @property
    def depth(self) -> int:
        return int(self.run.search_steps or 0)

    def _tiles(self, image: np.ndarray, tiles: list[tuple[int, int]], depth: int) -> tuple[np.ndarray, np.ndarray]:
        """Per-tile maps ``(n, T, T)`` of the statistic's kind, and the paper scores ``(n,)``."""
        m = self.model
        cut = cut_tiles(image, tiles, m.tile_size)
        lam = 0.1 if self.run.lam is None else float(self.run.lam)
        size = max(self.run.batch_size or 64, len(cut))
        scored = m.score_tiles(cut, "hybrid" if depth > 0 else "fast", steps=depth, lam=lam, batch_size=size,
                               should_stop=self.run.should_stop)
        if self.statistic == "tile":
            return scored.maps, scored.paper
        return m.raw_maps(scored.extra["local"]).cpu().numpy(), scored.paper

    def maps(self, inputs: Sequence[SliceInput]) -> list[np.ndarray]:
        out = []
        self._values = {}
        for inp in inputs:
            if not inp.tiles:
                out.append(np.zeros(inp.image.shape, np.float32))
                continue
            if self.statistic != "tile" and self.depth <= 0:
                heat = self._encoder_residual(inp.image, inp.tiles).copy()
                self._values[inp.index] = {"anogan_paper": self._papers[self._key(inp.image, inp.tiles)]}
            else:
                tiles, paper = self._tiles(inp.image, inp.tiles, self.depth)
                self._values[inp.index] = {"anogan_paper": float(paper.sum())}
                if self.statistic == "tile":
                    out.append(stitch(tiles, inp.tiles, inp.image.shape, inp.mask) * np.float32(self._search_scale()))
                    continue
                heat = stitch(tiles, inp.tiles, inp.image.shape, None, sigma=0.0)
            near = self._neighbours(inp) if self.contrast else []
            if near:
                heat = heat - np.median(np.stack(near), axis=0)
            np.maximum(heat, 0.0, out=heat)
            heat[~inp.mask] = 0.0
            out.append((heat * np.float32(self._search_scale())).astype(np.float32))
        return out

    def _neighbours(self, inp: SliceInput) -> list[np.ndarray]:
        """The neighbours' encoder residuals, as the z-contrast was calibrated.

        Each ROI slice ``gap``..``reach`` away (the context offsets' range) counts
        once, with its own tiles; without the context's indices every context
        crop counts, on this slice's tiles.
        """
        if not inp.context_slices:
            return [self._encoder_residual(c, inp.tiles) for c in inp.context]
        reach = [abs(o) for o in inp.offsets]
        gap, far = min(reach, default=0), max(reach, default=0)
        out, seen = [], set()
        for crop, j, tiles in zip(inp.context, inp.context_slices, inp.context_tiles):
            if j in seen or not tiles or not gap <= abs(j - inp.index) <= far:
                continue  # a padded repeat, a slice without tiles, or one nearer than the gap
            seen.add(j)
            out.append(self._encoder_residual(crop, tiles))
        return out

    @staticmethod
    def _key(image: np.ndarray, tiles: list[tuple[int, int]]) -> bytes:
        digest = hashlib.blake2b(np.ascontiguousarray(image).tobytes(), digest_size=16)
        digest.update(repr((image.shape, tiles)).encode())
        return digest.digest()

    def _encoder_residual(self, image: np.ndarray, tiles: list[tuple[int, int]]) -> np.ndarray:
        """The stitched encoder residual of a crop, computed once for the slice and the slices it stands beside."""
        key = self._key(image, tiles)
        if key not in self._cache:
            maps, paper = self._tiles(image, tiles, 0)
            self._cache[key] = stitch(maps, tiles, image.shape, None, sigma=0.0)
            self._papers[key] = float(paper.sum())
            while len(self._cache) > CACHE:
                old, _ = self._cache.popitem(last=False)
                self._papers.pop(old, None)
        self._cache.move_to_end(key)
        return self._cache[key]

    def _search_scale(self) -> float:
        """A searched map over the search threshold, in units of the encoder's (the fusion's scale).

        A format-1 model was calibrated twice, for ``z = E(x)`` and for a search;
        its fused model carries the first threshold.
        """
        if self.depth <= 0 or not self.model.meta.get("calibration"):
            return 1.0
        return self.model.threshold_for("fast") / max(self.model.threshold_for("anogan"), 1e-12)

    def state(self) -> dict[str, torch.Tensor]:
        m = self.model
        tensors: dict[str, torch.Tensor] = {}
        for prefix, net in (("generator", m.generator), ("discriminator", m.discriminator), ("encoder", m.encoder)):
            tensors.update({f"{prefix}.{k}": v.detach().cpu().contiguous() for k, v in net.state_dict().items()})
        return tensors

    def config(self) -> dict[str, Any]:
        m = self.model
        return {"family": "anogan", "variant": "unconditioned", "architecture": m.config.to_dict(),
                "window": list(m.window), "shift": m.shift, "sigma": m.sigma, "contrast": self.contrast,
                "statistic": self.statistic}


def load(config: dict[str, Any], state: dict[str, torch.Tensor], device: torch.device) -> AnoganScorer:
    net = NetConfig(**config["architecture"])
    model = AnomalyModel(net, tuple(config["window"]), torch.device(device),
                         {"calibration": {"shift": config.get("shift", 1), "sigma": config.get("sigma", 1.0)}})
    for prefix, module in (("generator", model.generator), ("discriminator", model.discriminator),
                           ("encoder", model.encoder)):
        module.load_state_dict({k[len(prefix) + 1:]: v for k, v in state.items() if k.startswith(prefix + ".")},
                               strict=True)
    model.freeze()
    contrast = bool(config.get("contrast", True))
    return AnoganScorer(model, contrast=contrast, statistic=config.get("statistic"))
