"""The context-conditioned AnoGAN as a scorer: the residual |x - G(z, c)| over the ROI's tiles.

Each ROI tile ``x`` of a slice is scored with its context tiles ``c`` (the
same tile ``offsets`` slices away, as :mod:`ctreview.training.context` cuts
them for training). ``z`` starts at the f-AnoGAN encoder's ``E(x, c)`` and
takes ``steps`` steps of AnoGAN's latent search (Adam on z, per-tile loss
``(1 - lam) * sum|x - G(z, c)| + lam * sum|f(x, c) - f(G(z, c), c)|``,
:func:`~ctreview.model.cond_search.cond_latent_search`): ``steps = 0`` is
f-AnoGAN, ``steps = 500`` the seeds' AnoGAN. The map is the residual,
stitched over the tiles, lightly smoothed and masked to the ROI; the
paper's score (the loss at the final z, summed over the slice's tiles) is
kept per slice as ``anogan_paper`` (see :meth:`CondAnoganScorer.slice_values`).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ctreview.model.anogan.cond_search import cond_latent_search
from ctreview.model.anogan.search import frozen, paper_loss
from ctreview.model.config import NetConfig
from ctreview.model.nets.conditioned import CondDiscriminator, CondEncoder, CondGenerator
from ctreview.model.scorer import RunOptions, SliceInput
from ctreview.roi.stitch import stitch
from ctreview.roi.tiles import cut_tiles

HEADROOM = 0.5
"""Centre tiles keep values up to this far beyond the training window: a defect brighter than any
normal material still leaves a residual (G's output, a tanh, never leaves [-1, 1])."""


class CondAnoganScorer:
    """G(z, c), D(x, c) and E(x, c) of a trained conditioned AnoGAN, scoring the ROI's tiles.

    Parameters
    ----------
    generator, discriminator, encoder : nn.Module
        The trained networks (frozen here).
    window : (float, float)
        Raw grey values mapped to ``[-1, 1]``.
    offsets : tuple of int
        Context offsets along z the networks were trained with (empty: unconditioned).
    steps : int
        Latent-search steps from ``E(x, c)`` (the model's default depth; a run may override it).
    lam : float
        Weight of the feature-matching term of the search's loss.
    sigma : float
        Smoothing (pixels) of the stitched residual.
    batch_size : int
        Tiles per network batch.
    """

    name = "anogan"

    def __init__(self, generator: CondGenerator, discriminator: CondDiscriminator, encoder: CondEncoder,
                 window: tuple[float, float], offsets: Sequence[int] = (), *, steps: int = 0, lam: float = 0.1,
                 sigma: float = 1.0, batch_size: int = 64) -> None:
        self.generator, self.discriminator, self.encoder = generator, discriminator, encoder
        frozen(generator, discriminator, encoder)
        self.window = (float(window[0]), float(window[1]))
        self.offsets = tuple(int(o) for o in offsets)
        self.steps, self.lam, self.sigma, self.batch_size = int(steps), float(lam), float(sigma), int(batch_size)
        self.run = RunOptions()
        self.warnings: list[str] = []
        self._values: dict[int, dict[str, float]] = {}
        self._expected: dict[int, np.ndarray] = {}

    @property
    def depth(self) -> int:
        """Search steps of this run: the run's override, else the model's."""
        return self.steps if self.run.search_steps is None else int(self.run.search_steps)

    def configure(self, options: RunOptions) -> None:
        self.run = options

    def slice_values(self, index: int) -> dict[str, float]:
        return dict(self._values.get(int(index), {}))

    def expected(self, index: int) -> np.ndarray | None:
        """The reconstruction ``G(z, c)`` of slice ``index``'s crop from the last :meth:`maps`, raw grey values."""
        return self._expected.get(int(index))

    def _normalise(self, stacks: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        lo, hi = self.window
        t = torch.as_tensor(np.nan_to_num(np.asarray(stacks, np.float32), nan=lo))
        t = (t - lo) * (2.0 / max(hi - lo, 1e-12)) - 1.0
        device = next(self.generator.parameters()).device
        x = t[:, :1].clamp(-1.0 - HEADROOM, 1.0 + HEADROOM).to(device)
        return x, t[:, 1:].clamp(-1.0, 1.0).to(device)

    def score_stacks(self, stacks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Residuals ``(n, T, T)`` and paper scores ``(n,)`` of tile stacks ``(n, 1 + K, T, T)`` (raw grey values)."""
        residuals, papers, _ = self.reconstruct(stacks)
        return residuals, papers

    def reconstruct(self, stacks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`score_stacks`, and the generated tiles ``(n, T, T)`` in raw grey values."""
        lam = self.lam if self.run.lam is None else float(self.run.lam)
        size = self.batch_size if self.run.batch_size is None else int(self.run.batch_size)
        residuals, papers, generated = [], [], []
        for start in range(0, len(stacks), max(1, size)):
            x, c = self._normalise(stacks[start:start + size])
            with torch.inference_mode():
                z = self.encoder(x.clamp(-1.0, 1.0), c).clone()  # E saw only the window in training
            loss = None
            if self.depth > 0:
                z, loss, _ = cond_latent_search(self.generator, self.discriminator, x, c, z, steps=self.depth,
                                                lam=lam, should_stop=self.run.should_stop)
            with torch.inference_mode():
                g = self.generator(z, c)
                if loss is None:
                    loss = paper_loss(x, self.discriminator.features(x, c), g,
                                      self.discriminator.features(g, c), lam)
                residuals.append((x - g).abs()[:, 0].float().cpu().numpy())
                papers.append(loss.detach().float().cpu().numpy())
                generated.append(g[:, 0].float().cpu().numpy())
        t = self.generator.config.tile_size
        if not residuals:
            empty = np.zeros((0, t, t), np.float32)
            return empty, np.zeros(0, np.float32), empty
        lo, hi = self.window
        grey = lo + (np.concatenate(generated) + 1.0) * np.float32((hi - lo) / 2.0)  # undo _normalise
        return np.concatenate(residuals), np.concatenate(papers), grey.astype(np.float32)

    def maps(self, inputs: Sequence[SliceInput]) -> list[np.ndarray]:
        t = self.generator.config.tile_size
        cut = [_stack_tiles(inp.stack_of(self.offsets), inp.tiles, t) for inp in inputs]
        counts = [len(c) for c in cut]
        stacks = np.concatenate(cut) if cut else np.zeros((0, 1 + len(self.offsets), t, t), np.float32)
        residuals, papers, generated = self.reconstruct(stacks)
        out, start = [], 0
        self._values, self._expected = {}, {}
        for inp, n in zip(inputs, counts):
            part = slice(start, start + n)
            start += n
            if n == 0:
                out.append(np.zeros(inp.image.shape, np.float32))
                continue
            out.append(stitch(residuals[part], inp.tiles, inp.image.shape, inp.mask, sigma=self.sigma))
            self._values[inp.index] = {"anogan_paper": float(papers[part].sum())}
            self._expected[inp.index] = stitch(generated[part], inp.tiles, inp.image.shape, inp.mask, sigma=0,
                                                 floor=0.0)
        return out

    def state(self) -> dict[str, torch.Tensor]:
        tensors: dict[str, torch.Tensor] = {}
        for prefix, net in (("generator", self.generator), ("discriminator", self.discriminator),
                            ("encoder", self.encoder)):
            tensors.update({f"{prefix}.{k}": v.detach().cpu().contiguous() for k, v in net.state_dict().items()})
        return tensors

    def config(self) -> dict[str, Any]:
        return {"family": "anogan", "variant": "conditioned", "net": self.generator.config.to_dict(),
                "offsets": list(self.offsets), "window": list(self.window), "steps": self.steps, "lam": self.lam,
                "sigma": self.sigma, "batch_size": self.batch_size, "warnings": list(self.warnings)}


def _stack_tiles(stack: np.ndarray, tiles: list[tuple[int, int]], tile_size: int) -> np.ndarray:
    """The same tiles cut out of every channel of ``stack`` ``(C, y, x)``; returns ``(n, C, T, T)``."""
    if not tiles:
        return np.zeros((0, len(stack), tile_size, tile_size), np.float32)
    return np.stack([cut_tiles(channel, tiles, tile_size) for channel in stack], axis=1).astype(np.float32)


def load(config: dict, state: dict[str, torch.Tensor], device: Any) -> CondAnoganScorer:
    """Rebuild the scorer from its ``config()`` and ``state()`` (as a model folder stores them)."""
    net = NetConfig(**config["net"])
    offsets = tuple(int(o) for o in config.get("offsets", ()))
    g, d, e = CondGenerator(net, len(offsets)), CondDiscriminator(net, len(offsets)), CondEncoder(net, len(offsets))
    for prefix, module in (("generator", g), ("discriminator", d), ("encoder", e)):
        module.load_state_dict({k[len(prefix) + 1:]: v for k, v in state.items() if k.startswith(prefix + ".")},
                               strict=True)
        module.to(device)
    window = tuple(float(v) for v in config["window"])
    return CondAnoganScorer(g, d, e, (window[0], window[1]), offsets, steps=int(config.get("steps", 0)),
                            lam=float(config.get("lam", 0.1)), sigma=float(config.get("sigma", 1.0)),
                            batch_size=int(config.get("batch_size", 64)))
