"""Train an AnoGAN (DCGAN or WGAN-GP), then its f-AnoGAN encoder, then calibrate.

``train`` is a plain function with ``callback`` / ``should_stop`` hooks so
the GUI can run it in a worker: a :class:`TrainEvent` per iteration (with
sample images every ``sample_every`` iterations), and a check for cancel
between iterations. A checkpoint (``checkpoint.pt``, tensors only, read
with ``weights_only=True``) is written every epoch and on cancel;
``resume=True`` continues from it bit for bit.
"""
from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from ctreview.errors import Cancelled, CtreviewError
from ctreview.model import _loop
from ctreview.model._checkpoint import load_checkpoint, save_checkpoint
from ctreview.model.anomaly import AnomalyModel
from ctreview.model.calibrate import calibrate, split_groups
from ctreview.model.data import collect_tiles
from ctreview.model.device import pick_device
from ctreview.model.nets import NetConfig
from ctreview.model.store import save_model

log = logging.getLogger(__name__)


@dataclass
class TrainSettings:
    """Every setting of a training run (stored in ``model.json``)."""

    tile_size: int = 64
    latent_dim: int = 100
    width: int = 32
    epochs: int = 20
    encoder_epochs: int | None = None
    batch_size: int = 64
    loss: str = "dcgan"
    lr: float = 2e-4
    kappa: float = 1.0
    n_critic: int = 5
    seed: int = 0
    percentiles: tuple[float, float] = (0.5, 99.5)
    holdout: float = 0.15
    fpr: float = 0.01
    sample_every: int = 50
    stride: int | None = None
    min_iters_per_epoch: int = 1


@dataclass
class TrainEvent:
    """Progress of training, sent to ``callback`` after every iteration.

    ``phase`` is ``"gan"``, ``"encoder"``, ``"calibrate"`` or ``"done"``;
    ``samples`` (every ``sample_every`` iterations) is an ndarray
    ``(k, T, T)`` of generator output in ``[0, 1]``, else None.
    """

    phase: str
    epoch: int
    epochs: int
    iteration: int
    iterations: int
    losses: dict = field(default_factory=dict)
    samples: np.ndarray | None = None


def _window(tiles: np.ndarray, percentiles: tuple[float, float]) -> tuple[float, float]:
    sample = tiles.reshape(-1)
    if sample.size > 4_000_000:
        sample = sample[:: sample.size // 4_000_000 + 1]
    lo, hi = (float(v) for v in np.percentile(sample, percentiles))
    if not hi > lo:
        raise CtreviewError(None, "training tiles are constant: no intensity window can be fitted")
    return lo, hi


def _augment_of(profile: Any) -> dict:
    try:
        from ctreview.roi import load_profile

        prof = profile if hasattr(profile, "augment") else load_profile(profile)
        return {"flip": bool(prof.augment.get("flip", True)), "rot90": bool(prof.augment.get("rot90", True))}
    except (ImportError, CtreviewError):
        return {"flip": True, "rot90": True}


def _profile_name(profile: Any) -> str:
    return str(getattr(profile, "name", profile))


class _Run:
    """State of one training run: networks, optimisers, data, counters."""

    def __init__(self, s: TrainSettings, tiles: torch.Tensor, device: torch.device, d_norm: str) -> None:
        torch.manual_seed(s.seed)
        self.s, self.device, self.data = s, device, tiles
        self.config = NetConfig(s.tile_size, s.latent_dim, s.width, "batch", d_norm)
        self.model = AnomalyModel(self.config, (0.0, 1.0), device)
        self.G, self.D, self.E = self.model.generator, self.model.discriminator, self.model.encoder
        betas = (0.5, 0.999) if s.loss == "dcgan" else (0.5, 0.9)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=s.lr, betas=betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=s.lr, betas=betas)
        self.opt_e = torch.optim.Adam(self.E.parameters(), lr=s.lr, betas=(0.5, 0.999))
        self.gen = torch.Generator().manual_seed(s.seed)
        self.fixed_z = torch.randn(16, s.latent_dim, generator=self.gen).to(device)
        self.per_epoch = max(s.min_iters_per_epoch, -(-tiles.shape[0] // s.batch_size))
        self.enc_epochs = s.epochs if s.encoder_epochs is None else s.encoder_epochs
        self.phase, self.iteration, self.history = "gan", 0, []

    def total(self) -> int:
        return (self.s.epochs if self.phase == "gan" else self.enc_epochs) * self.per_epoch

    def samples(self) -> np.ndarray:
        was = self.G.training
        self.G.eval()
        with torch.inference_mode():
            out = ((self.G(self.fixed_z)[:, 0] + 1) / 2).clamp(0, 1).cpu().numpy()
        self.G.train(was)
        return out

    def batch(self, aug: dict) -> torch.Tensor:
        return _loop.sample_batch(self.data, self.s.batch_size, self.gen, aug["flip"], aug["rot90"]).to(self.device)

    def z(self) -> torch.Tensor:
        return torch.randn(self.s.batch_size, self.s.latent_dim, generator=self.gen).to(self.device)

    def step(self, aug: dict) -> dict:
        if self.phase == "gan":
            self.G.train(), self.D.train()
            if self.s.loss == "dcgan":
                return _loop.dcgan_step(self.G, self.D, self.opt_g, self.opt_d, self.batch(aug), self.z())
            reals = [self.batch(aug) for _ in range(self.s.n_critic)]
            zs = [self.z() for _ in range(self.s.n_critic)]
            return _loop.wgan_gp_step(self.G, self.D, self.opt_g, self.opt_d, reals, zs, self.gen)
        self.E.train()
        return _loop.encoder_step(self.E, self.G, self.D, self.opt_e, self.batch(aug), self.s.kappa)

    def end_gan(self) -> None:
        _loop.refresh_batchnorm(self.G, self.s.latent_dim, self.gen, self.device)
        for net in (self.G, self.D):
            net.eval()
            for p in net.parameters():
                p.requires_grad_(False)
        self.phase, self.iteration = "encoder", 0


def _loop_phase(run: _Run, aug: dict, ckpt: Path, callback, should_stop) -> None:
    while run.iteration < run.total():
        if should_stop is not None and should_stop():
            save_checkpoint(ckpt, run)
            raise Cancelled(f"training stopped at {run.phase} iteration {run.iteration}; resume with resume=True")
        losses = run.step(aug)
        run.iteration += 1
        epoch = (run.iteration - 1) // run.per_epoch + 1
        if run.iteration % run.per_epoch == 0:
            run.history.append({"phase": run.phase, "epoch": epoch, **losses})
            save_checkpoint(ckpt, run)
        if callback is not None:
            sample = run.phase == "gan" and (run.iteration % run.s.sample_every == 0 or run.iteration == run.total())
            epochs = run.s.epochs if run.phase == "gan" else run.enc_epochs
            callback(TrainEvent(run.phase, epoch, epochs, run.iteration, run.total(), losses,
                                run.samples() if sample else None))


def train(inputs: Any, out: str | Path, *, profile: Any = "whole-part", tile_size: int = 64,
          latent_dim: int = 100, epochs: int = 20, loss: str = "dcgan", device: str = "auto",
          seed: int = 0, callback: Callable[[TrainEvent], None] | None = None,
          should_stop: Callable[[], bool] | None = None, resume: bool = False, **options: Any) -> Path:
    """Train a model on normal data and write it to the folder ``out``.

    Parameters
    ----------
    inputs : path, Volume, ndarray or a list of them
        Normal data (see :mod:`ctreview.model.data`).
    out : path
        Model folder to write (``model.json``, ``weights.safetensors``).
    profile : str, Path or Profile
        ROI profile used to cut volumes into tiles; its augmentations apply.
    tile_size, latent_dim, epochs, loss, seed
        See :class:`TrainSettings`; ``loss`` is ``"dcgan"`` or ``"wgan-gp"``.
    options
        Further :class:`TrainSettings` fields (``width``, ``batch_size``, ...) and ``name``.

    Returns
    -------
    Path
        The model folder.

    Raises
    ------
    CtreviewError
        Unreadable inputs, no tiles, a checkpoint that does not match.
    Cancelled
        ``should_stop`` returned true; a checkpoint was written.
    """
    if loss not in ("dcgan", "wgan-gp"):
        raise CtreviewError(None, f"unknown loss {loss!r}; use dcgan or wgan-gp")
    name = options.pop("name", None)
    s = TrainSettings(tile_size=tile_size, latent_dim=latent_dim, epochs=epochs, loss=loss, seed=seed, **options)
    out = Path(out)
    t0 = time.perf_counter()
    tileset = collect_tiles(inputs, profile, s.tile_size, s.stride)
    held = split_groups(tileset.groups, s.holdout, s.seed)
    if held.all() or not held.any():
        held = np.zeros(len(held), bool)  # too little data to hold out: calibrate on training tiles
    train_tiles = tileset.tiles[~held]
    window = _window(train_tiles, s.percentiles)
    dev = pick_device(device)
    run = _Run(s, torch.zeros(0), dev, "batch" if loss == "dcgan" else "layer")
    run.model.window = window
    run.data = run.model.normalise(train_tiles, headroom=0.0).cpu()
    run.per_epoch = max(s.min_iters_per_epoch, -(-run.data.shape[0] // s.batch_size))
    out.mkdir(parents=True, exist_ok=True)
    ckpt = out / "checkpoint.pt"
    if resume and ckpt.is_file():
        load_checkpoint(ckpt, run, asdict(s))
    aug = _augment_of(profile)
    if run.phase == "gan":
        _loop_phase(run, aug, ckpt, callback, should_stop)
        run.end_gan()
        save_checkpoint(ckpt, run)
    if run.phase == "encoder":
        _loop_phase(run, aug, ckpt, callback, should_stop)
    if callback is not None:
        callback(TrainEvent("calibrate", s.epochs, s.epochs, 0, 1))
    cal_tiles = tileset.tiles[held] if held.any() else tileset.tiles
    cal_groups = tileset.groups[held] if held.any() else tileset.groups
    calibration = calibrate(run.model, cal_tiles, cal_groups, fpr=s.fpr, seed=s.seed, stat_tiles=train_tiles)
    if tileset.volumes:
        # z-contrast needs whole slices in z order; scoring lives in ctreview.scoring
        from ctreview.scoring.calibration import calibrate_contrast

        run.model.meta["calibration"] = calibration
        calibrate_contrast(run.model, tileset.volumes, profile, fpr=s.fpr, seed=s.seed,
                           should_stop=should_stop)
    meta = _meta(s, tileset, held, profile, aug, calibration, run, time.perf_counter() - t0, dev, name)
    save_model(run.model, out, meta)
    ckpt.unlink(missing_ok=True)
    if callback is not None:
        callback(TrainEvent("done", s.epochs, s.epochs, 1, 1))
    return out


def _meta(s: TrainSettings, tileset, held: np.ndarray, profile: Any, aug: dict, calibration: dict,
          run: _Run, seconds: float, dev: torch.device, name: str | None) -> dict:
    meta = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "profile": _profile_name(profile),
        "window_percentiles": list(s.percentiles),
        "calibration": calibration,
        "training": {**asdict(s), "augment": aug, "device": str(dev), "seconds": round(seconds, 1),
                     "iterations_per_epoch": run.per_epoch},
        "data": {"sources": tileset.sources, "tiles": int(len(tileset.tiles)),
                 "train_tiles": int((~held).sum()), "calibration_tiles": int(held.sum()) or int(len(held))},
        "metrics": {"history": run.history[-200:]},
    }
    if name:
        meta["name"] = name
    return meta
