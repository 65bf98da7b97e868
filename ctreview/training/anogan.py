"""Train an AnoGAN (DCGAN or WGAN-GP), then its f-AnoGAN encoder, then calibrate.

:func:`iter_train` is a generator (the core's progress protocol, see
:mod:`ctreview.progress`): it yields a :class:`TrainEvent` per iteration
(with sample images every ``sample_every`` iterations), checks
``should_stop`` between iterations and returns the model folder;
:func:`train` runs it to the end. A checkpoint (``checkpoint.pt``, tensors
only, read with ``weights_only=True``) is written every epoch and on
cancel; ``resume=True`` continues from it bit for bit.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ctreview.errors import Cancelled, CtreviewError
from ctreview.model.anogan.anomaly import AnomalyModel
from ctreview.model.device import pick_device
from ctreview.model.meta import refuse_overwrite
from ctreview.model.nets.dcgan import NetConfig
from ctreview.model.store import save_model
from ctreview.progress import StopFlag, drain
from ctreview.timestamps import now_iso
from ctreview.training import _loop
from ctreview.training._checkpoint import load_checkpoint, save_checkpoint
from ctreview.training.calibrate import calibrate, split_groups
from ctreview.training.contrast_calibration import calibrate_contrast
from ctreview.training.data import collect_tiles
from ctreview.training.settings import TrainEvent, TrainSettings

log = logging.getLogger(__name__)

MIN_TILES = 32
"""Fewer training tiles than this (one batch) train a model that knows nothing: refused unless forced."""


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

        prof = load_profile(profile)
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
        self.phase, self.iteration = "gan", 0
        self.history: list[dict[str, Any]] = []

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


def _loop_phase(run: _Run, aug: dict, ckpt: Path,
                should_stop: StopFlag | None) -> Generator[TrainEvent, None, None]:
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
        sample = run.phase == "gan" and (run.iteration % run.s.sample_every == 0 or run.iteration == run.total())
        epochs = run.s.epochs if run.phase == "gan" else run.enc_epochs
        yield TrainEvent(run.phase, epoch, epochs, run.iteration, run.total(), losses,
                         run.samples() if sample else None)


def _fit(tiles: np.ndarray, s: TrainSettings, profile: Any, dev: torch.device, ckpt: Path, resume: bool,
         should_stop: StopFlag | None) -> Generator[TrainEvent, None, _Run]:
    """Train the GAN, then the encoder, on normal tiles ``(n, T, T)``; return the run."""
    run = _Run(s, torch.zeros(0), dev, "batch" if s.loss == "dcgan" else "layer")
    run.model.window = _window(tiles, s.percentiles)
    run.data = run.model.normalise(tiles, headroom=0.0).cpu()
    run.per_epoch = max(s.min_iters_per_epoch, -(-run.data.shape[0] // s.batch_size))
    if resume and ckpt.is_file():
        load_checkpoint(ckpt, run, asdict(s))
    aug = _augment_of(profile)
    if run.phase == "gan":
        yield from _loop_phase(run, aug, ckpt, should_stop)
        run.end_gan()
        save_checkpoint(ckpt, run)
    if run.phase == "encoder":
        yield from _loop_phase(run, aug, ckpt, should_stop)
    return run


def iter_fit_gan(tiles: np.ndarray, settings: TrainSettings, *, profile: Any = "whole-part",
                 device: str | torch.device = "cpu", checkpoint: Path,
                 should_stop: StopFlag | None = None) -> Generator[TrainEvent, None, AnomalyModel]:
    """Train an AnoGAN and its encoder on normal tiles ``(n, T, T)``, without calibrating it.

    ``checkpoint`` is written every epoch (and removed by the caller when done).
    """
    run = yield from _fit(tiles, settings, profile, pick_device(device), checkpoint, False, should_stop)
    run.model.freeze()
    return run.model


def settings_from(**options: Any) -> TrainSettings:
    """Build :class:`TrainSettings` from keyword options; an unknown name is a user error."""
    known = {f.name for f in fields(TrainSettings)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise CtreviewError(None, f"unknown training setting(s): {', '.join(unknown)}")
    if "percentiles" in options:
        options["percentiles"] = tuple(options["percentiles"])
    return TrainSettings(**options)


def iter_train(inputs: Any, out: str | Path, settings: TrainSettings | None = None, *,
               profile: Any = "whole-part", device: str = "auto", resume: bool = False,
               name: str | None = None, should_stop: StopFlag | None = None,
               force: bool = False) -> Generator[TrainEvent, None, Path]:
    """Train a model on normal data and write it to the folder ``out``.

    Parameters
    ----------
    inputs : path, Volume, ndarray or a list of them
        Normal data (see :mod:`ctreview.training.data`).
    out : path
        Model folder to write (``model.json``, ``weights.safetensors``).
    settings : TrainSettings, optional
        Every setting; the defaults when None.
    profile : str, Path or Profile
        ROI profile used to cut volumes into tiles; its augmentations apply.
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"``, ``"mps"``.
    resume : bool
        Continue from ``out/checkpoint.pt``.
    name : str, optional
        The model's name (default: the folder's).
    should_stop : callable, optional
        Polled between iterations.
    force : bool
        Replace a model already in ``out``, and train on fewer than
        :data:`MIN_TILES` tiles; both are refused otherwise.

    Yields
    ------
    TrainEvent
        One per iteration, then ``"calibrate"`` and ``"done"``.

    Returns
    -------
    Path
        The model folder.

    Raises
    ------
    CtreviewError
        Unreadable inputs, no or too few tiles, a checkpoint that does not
        match, a model already in ``out`` (without ``resume`` or ``force``).
    Cancelled
        ``should_stop`` returned true; a checkpoint was written.
    """
    s = settings or TrainSettings()
    if s.loss not in ("dcgan", "wgan-gp"):
        raise CtreviewError(None, f"unknown loss {s.loss!r}; use dcgan or wgan-gp")
    out = Path(out)
    refuse_overwrite(out, resume=resume, force=force)  # before anything is read or written
    t0 = time.perf_counter()
    tileset = collect_tiles(inputs, profile, s.tile_size, s.stride)
    _refuse_few_tiles(tileset, force)
    held = split_groups(tileset.groups, s.holdout, s.seed)
    if held.all() or not held.any():
        held = np.zeros(len(held), bool)  # too little data to hold out: calibrate on training tiles
    train_tiles = tileset.tiles[~held]
    dev = pick_device(device)
    out.mkdir(parents=True, exist_ok=True)
    run = yield from _fit(train_tiles, s, profile, dev, out / "checkpoint.pt", resume, should_stop)
    aug = _augment_of(profile)
    ckpt = out / "checkpoint.pt"
    yield TrainEvent("calibrate", s.epochs, s.epochs, 0, 1)
    cal_tiles = tileset.tiles[held] if held.any() else tileset.tiles
    cal_groups = tileset.groups[held] if held.any() else tileset.groups
    calibration = calibrate(run.model, cal_tiles, cal_groups, fpr=s.fpr, seed=s.seed, stat_tiles=train_tiles)
    if tileset.volumes:
        # z-contrast needs whole slices in z order: the normal volumes are scored whole
        run.model.meta["calibration"] = calibration
        calibrate_contrast(run.model, tileset.volumes, profile, fpr=s.fpr, should_stop=should_stop)
    meta = _meta(s, tileset, held, profile, aug, calibration, run, time.perf_counter() - t0, dev, name)
    meta["domain"] = _domain(tileset, train_tiles, profile, s.tile_size, calibration)
    save_model(run.model, out, meta)
    ckpt.unlink(missing_ok=True)
    yield TrainEvent("done", s.epochs, s.epochs, 1, 1)
    return out


def train(inputs: Any, out: str | Path, *, profile: Any = "whole-part", device: str = "auto",
          resume: bool = False, name: str | None = None, should_stop: StopFlag | None = None,
          on_event: Callable[[TrainEvent], None] | None = None, force: bool = False, **options: Any) -> Path:
    """Run :func:`iter_train` to its end; ``options`` are :class:`TrainSettings` fields."""
    return drain(iter_train(inputs, out, settings_from(**options), profile=profile, device=device,
                            resume=resume, name=name, should_stop=should_stop, force=force), on_event)


def _refuse_few_tiles(tileset, force: bool) -> None:
    n = len(tileset.tiles)
    if n < MIN_TILES and not force:
        slices = len(set(tileset.groups.tolist()))
        raise CtreviewError(None, f"only {n} training tile{'s' if n != 1 else ''} (from {slices} "
                                  f"slice{'s' if slices != 1 else ''}): a model needs at least {MIN_TILES} "
                                  "to learn anything, and a few hundred (about 8 normal volumes) to be useful; "
                                  "add normal data, or train anyway with --force")


def _domain(tileset, train_tiles: np.ndarray, profile: Any, tile_size: int, calibration: dict) -> dict:
    """The training data's domain fingerprint (``model.json["domain"]``)."""
    from ctreview.model.domain import fingerprint_volumes

    return fingerprint_volumes(tileset.volumes, profile, tile_size, tiles=train_tiles, calibration=calibration)


def _meta(s: TrainSettings, tileset, held: np.ndarray, profile: Any, aug: dict, calibration: dict,
          run: _Run, seconds: float, dev: torch.device, name: str | None) -> dict:
    meta = {
        "created": now_iso("seconds"),
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
