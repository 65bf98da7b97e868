"""The inference side of a trained model: normalise tiles, find z, score them.

Two scores per tile, side by side:

* ``paper``: AnoGAN's anomaly score ``(1 - lam) * sum|x - G(z)| + lam * sum|f(x) - f(G(z))|``;
* ``score`` (the ranking score): the maximum over the tile of the residual,
  Gaussian-smoothed and turned into a z-score against the per-pixel mean and
  spread that held-out normal tiles showed at calibration. A sum over all
  pixels drowns a 10-pixel defect in reconstruction noise; a local maximum
  does not (see SCORING-NOTES).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ctreview.model.anogan.search import encode, frozen, latent_search, reconstruct, smooth
from ctreview.model.nets.dcgan import Discriminator, Encoder, Generator, NetConfig

MODES = ("fast", "anogan", "hybrid")
# Measured with z-contrast (bench/results/model.md): shift 1 / sigma 1 keep small
# defects that shift 2 / sigma 2 erased (slice AUROC +0.04-0.08 on two test sets).
# A model scores with the values it was calibrated with (model.json), these are
# what new calibrations use.
SIGMA = 1.0
SHIFT = 1
HEADROOM = 0.5


@dataclass
class TileScores:
    """Scores of a batch of n tiles.

    Attributes
    ----------
    scores : ndarray, shape (n,), float32
        Ranking score: max of the normalised smoothed residual.
    paper : ndarray, shape (n,), float32
        AnoGAN's summed score.
    residuals : ndarray, shape (n, T, T), float32
        Raw residual ``|x - G(z)|`` in normalised units.
    maps : ndarray, shape (n, T, T), float32
        Normalised local anomaly map (z-scores, clipped at 0); ``scores`` is its max.
        Built from the shift-tolerant residual (min over shifts of up to
        ``SHIFT`` pixels), smoothed with ``SIGMA``.
    z : ndarray, shape (n, latent_dim), float32
        The latents found.
    steps : int
        Search steps run (0 in ``fast`` mode).
    """

    scores: np.ndarray
    paper: np.ndarray
    residuals: np.ndarray
    maps: np.ndarray
    z: np.ndarray
    steps: int = 0
    mode: str = "fast"
    extra: dict = field(default_factory=dict)


def calibration_key(mode: str) -> str:
    """Return which calibration a mode uses: ``"fast"`` (encoder) or ``"search"``."""
    return "fast" if mode == "fast" else "search"


class AnomalyModel:
    """A trained AnoGAN + encoder, ready to score tiles (see :func:`ctreview.model.load_model`).

    Attributes
    ----------
    meta : dict
        The contents of ``model.json``.
    tile_size, latent_dim : int
    profile : str
        ROI profile the model was trained with.
    window : tuple of float
        Intensity window ``(lo, hi)`` mapped to ``[-1, 1]``.
    device : torch.device
    """

    def __init__(self, config: NetConfig, window: tuple[float, float], device: torch.device,
                 meta: dict | None = None) -> None:
        self.config = config
        self.meta = meta or {}
        self.window = (float(window[0]), float(window[1]))
        self.device = device
        self.generator = Generator(config).to(device)
        self.discriminator = Discriminator(config).to(device)
        self.encoder = Encoder(config).to(device)
        t = config.tile_size
        self.stats: dict[str, tuple[torch.Tensor, torch.Tensor]] = {
            k: (torch.zeros(t, t, device=device), torch.ones(t, t, device=device)) for k in ("fast", "search")}

    @property
    def path(self) -> Path | None:
        """The model folder this model was loaded from (None for one being trained)."""
        folder = self.meta.get("_dir")
        return Path(folder) if folder else None

    @property
    def tile_size(self) -> int:
        return self.config.tile_size

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def profile(self) -> str:
        return str(self.meta.get("profile", "whole-part"))

    @property
    def threshold(self) -> float:
        """Slice threshold of the ``fast`` scores (see :meth:`threshold_for`)."""
        return self.threshold_for("fast")

    @property
    def shift(self) -> int:
        """Shift tolerance (pixels) of the residual this model was calibrated with."""
        return int(self.meta.get("calibration", {}).get("shift", SHIFT))

    @property
    def sigma(self) -> float:
        """Smoothing (pixels) of the residual this model was calibrated with."""
        return float(self.meta.get("calibration", {}).get("sigma", SIGMA))

    @property
    def statistic(self) -> str:
        """How slices are scored: ``"z-contrast"`` when calibrated for it, else ``"tile"``.

        ``z-contrast`` (see :mod:`ctreview.scoring.contrast`) needs whole
        normal volumes at calibration; a model trained only from tiles (a
        training set, an array) keeps the per-tile-position z-score.
        """
        return "z-contrast" if "contrast" in self.meta.get("calibration", {}) else "tile"

    def threshold_for(self, mode: str) -> float:
        """Return the calibrated slice threshold for the scores of ``mode`` (and :attr:`statistic`)."""
        cal = self.meta.get("calibration", {})
        if self.statistic == "z-contrast":
            cal = cal["contrast"]
        return float(cal.get(calibration_key(mode), {}).get("threshold", 1.0)) or 1.0

    def freeze(self) -> None:
        frozen(self.generator, self.discriminator, self.encoder)

    def normalise(self, tiles: np.ndarray, headroom: float = HEADROOM) -> torch.Tensor:
        """Map tiles ``(n, T, T)`` of any dtype to a ``(n, 1, T, T)`` float32 tensor.

        The training window maps to ``[-1, 1]``; values beyond it are kept up
        to ``1 + headroom`` so a defect brighter (or darker) than any normal
        material still leaves a residual. Training uses ``headroom=0``.
        """
        lo, hi = self.window
        x = torch.as_tensor(np.asarray(tiles, dtype=np.float32))
        x = torch.nan_to_num(x, nan=lo, posinf=hi, neginf=lo)
        x = (x - lo) * (2.0 / max(hi - lo, 1e-12)) - 1.0
        return x.clamp_(-1.0 - headroom, 1.0 + headroom)[:, None].to(self.device)

    def score_tiles(self, tiles: np.ndarray, mode: str = "fast", steps: int = 0,
                    lam: float = 0.1, z0: np.ndarray | None = None, *, batch_size: int = 256,
                    seed: int = 0, should_stop: Callable[[], bool] | None = None) -> TileScores:
        """Score tiles ``(n, T, T)``.

        Parameters
        ----------
        mode : str
            ``"fast"`` (z = E(x)), ``"anogan"`` (search from a seeded random z)
            or ``"hybrid"`` (search from E(x)).
        steps : int
            Latent-search steps (``anogan`` and ``hybrid``; ignored by ``fast``).
        lam : float
            Weight of the feature-matching term.
        z0 : ndarray, shape (n, latent_dim), optional
            Starting latents for the search (overrides the mode's start).
        """
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        steps = int(steps)
        n = len(tiles)
        parts, ran = [], 0
        gen = torch.Generator().manual_seed(seed)
        for start in range(0, n, batch_size):
            x = self.normalise(tiles[start:start + batch_size])
            z_start = self._start(x, mode, gen, None if z0 is None else z0[start:start + batch_size])
            if mode == "fast" or steps <= 0:
                z = z_start
            else:
                z, _, used = latent_search(self.generator, self.discriminator, x, z_start, steps=steps,
                                           lam=lam, should_stop=should_stop)
                ran = max(ran, used)
            res, local, paper = reconstruct(self.generator, self.discriminator, x, z, lam, self.shift)
            parts.append((res, paper, z, local))
        return self._assemble(parts, mode, ran)

    def _start(self, x: torch.Tensor, mode: str, gen: torch.Generator, z0: np.ndarray | None) -> torch.Tensor:
        if z0 is not None:
            return torch.as_tensor(np.asarray(z0, np.float32), device=self.device)
        if mode == "anogan":
            return torch.randn(x.shape[0], self.latent_dim, generator=gen).to(self.device)
        return encode(self.encoder, x)

    def raw_maps(self, residuals: torch.Tensor) -> torch.Tensor:
        """Smooth shift-tolerant residuals ``(n, T, T)`` as the local statistic does, before normalising."""
        with torch.inference_mode():
            return smooth(residuals, self.sigma)

    def _assemble(self, parts: list, mode: str, ran: int) -> TileScores:
        t, d = self.tile_size, self.latent_dim
        if not parts:
            empty = np.zeros((0, t, t), np.float32)
            return TileScores(np.zeros(0, np.float32), np.zeros(0, np.float32), empty, empty.copy(),
                              np.zeros((0, d), np.float32), 0, mode)
        res = torch.cat([p[0] for p in parts])
        paper = torch.cat([p[1] for p in parts])
        z = torch.cat([p[2] for p in parts])
        local = torch.cat([p[3] for p in parts])
        mu, sd = self.stats[calibration_key(mode)]
        with torch.inference_mode():
            maps = ((self.raw_maps(local) - mu) / sd).clamp_(min=0.0)
            scores = maps.flatten(1).amax(1)
        as_np = lambda a: a.detach().float().cpu().numpy()  # noqa: E731
        return TileScores(as_np(scores), as_np(paper), as_np(res), as_np(maps), as_np(z), ran, mode,
                          {"local": local})
