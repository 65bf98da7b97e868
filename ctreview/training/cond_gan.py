"""Train the context-conditioned AnoGAN: G(z, c) and D(x, c), then the encoder E(x, c).

Input is context tile stacks ``(n, 1 + K, T, T)`` as
:mod:`ctreview.training.context` cuts them (channel 0 the centre slice,
channels 1.. the same tile ``offsets`` slices away). Training is built to be
stable and cheap on a CPU: a spectrally normalised discriminator with the
hinge loss (no gradient penalty, so no double backward), TTUR (the
discriminator learns 4x faster than the generator, Heusel et al. 2017),
Adam betas (0, 0.9). Then the f-AnoGAN encoder learns izi_f:
``|x - G(E(x, c), c)|² + kappa · |f(x, c) - f(G(E(x, c), c), c)|²``.

:func:`iter_train_cond_gan` is a generator in the core's progress protocol
(:mod:`ctreview.progress`): a :class:`~ctreview.training.settings.TrainEvent`
per iteration (phase ``"cond-gan"`` or ``"cond-encoder"``), whose losses gain
``holdout_mse`` every ``eval_every`` iterations, and a :class:`GanWarning`
when the discriminator collapses; it returns a :class:`CondGan`.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Callable, Generator
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from ctreview.errors import Cancelled
from ctreview.model.anogan.cond_search import cond_latent_search
from ctreview.model.anogan.search import frozen
from ctreview.model.config import NetConfig
from ctreview.model.nets.conditioned import CondDiscriminator, CondEncoder, CondGenerator
from ctreview.progress import StopFlag, drain
from ctreview.training._loop import sample_batch
from ctreview.training.cond_gan_settings import CondGanSettings
from ctreview.training.settings import TrainEvent

__all__ = ["CondGan", "CondGanSettings", "GanWarning", "iter_train_cond_gan", "train_cond_gan"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GanWarning:
    """Training went wrong in a way the user should see: ``kind`` is ``"collapse"``, ``"diverged"`` or ``"rising"``."""

    phase: str
    iteration: int
    kind: str
    message: str


@dataclass
class CondGan:
    """A trained conditioned AnoGAN (networks frozen, in eval mode).

    ``window`` maps raw intensities to ``[-1, 1]`` (as in the unconditioned
    model); ``history`` holds the losses of every ``eval_every``-th iteration.
    """

    generator: CondGenerator
    discriminator: CondDiscriminator
    encoder: CondEncoder
    window: tuple[float, float]
    context: int
    history: list[dict] = field(default_factory=list)
    warnings: list[GanWarning] = field(default_factory=list)

    def normalise(self, stacks: np.ndarray) -> torch.Tensor:
        """Map stacks ``(n, 1 + K, T, T)`` of any dtype to a float32 tensor in ``[-1, 1]``, same shape."""
        return normalise(stacks, self.window)

    def reconstruct(self, stacks: np.ndarray, *, steps: int = 0, lam: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
        """Return the centre tiles ``x`` and ``G(z, c)``, both ``(n, T, T)`` in ``[-1, 1]``.

        ``z = E(x, c)``, refined by ``steps`` latent-search steps when ``steps > 0``.
        """
        t = self.normalise(stacks)
        x, c = t[:, :1], t[:, 1:]
        with torch.inference_mode():
            z = self.encoder(x, c).clone()
        if steps > 0:
            z, _, _ = cond_latent_search(self.generator, self.discriminator, x, c, z, steps=steps, lam=lam)
        with torch.inference_mode():
            g = self.generator(z, c)
        return x[:, 0].numpy(), g[:, 0].numpy()

    def holdout_mse(self, stacks: np.ndarray, *, steps: int = 0) -> float:
        """MSE of ``G(E(x, c), c)`` against ``x`` over stacks ``(n, 1 + K, T, T)``, in ``[-1, 1]`` units."""
        x, g = self.reconstruct(stacks, steps=steps)
        return float(np.mean((x - g) ** 2))


def fit_window(stacks: np.ndarray, percentiles: tuple[float, float]) -> tuple[float, float]:
    """Percentile window of the centre channel of stacks ``(n, 1 + K, T, T)``."""
    lo, hi = (float(v) for v in np.percentile(stacks[:, 0], percentiles))
    if not hi > lo:
        raise ValueError("training tiles are constant: no intensity window can be fitted")
    return lo, hi


def normalise(stacks: np.ndarray, window: tuple[float, float]) -> torch.Tensor:
    """Map every channel of stacks ``(n, C, T, T)`` with one window to ``[-1, 1]`` (clamped)."""
    lo, hi = window
    x = torch.as_tensor(np.asarray(stacks, dtype=np.float32))
    return ((x - lo) * (2.0 / (hi - lo)) - 1.0).clamp_(-1.0, 1.0)


class _Run:
    """Networks, optimisers and counters of one run."""

    def __init__(self, s: CondGanSettings, context: int) -> None:
        torch.manual_seed(s.seed)
        self.s, self.gen = s, torch.Generator().manual_seed(s.seed)
        cfg = NetConfig(s.tile_size, s.latent_dim, s.width, "none", "none")
        self.G, self.D, self.E = CondGenerator(cfg, context), CondDiscriminator(cfg, context), CondEncoder(cfg, context)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=s.lr_g, betas=s.betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=s.lr_d, betas=s.betas)
        self.opt_e = torch.optim.Adam(self.E.parameters(), lr=s.lr_e, betas=(0.5, 0.999))
        self.low_d, self.best_eval, self.rising_warned = 0, math.inf, False
        self.history: list[dict] = []
        self.warnings: list[GanWarning] = []

    def batch(self, data: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b = sample_batch(data, self.s.batch_size, self.gen, self.s.flip, self.s.rot90)
        return b[:, :1], b[:, 1:]

    def gan_step(self, data: torch.Tensor) -> dict[str, float]:
        """One hinge-loss update of D, then of G, on one batch."""
        x, c = self.batch(data)
        z = torch.randn(x.shape[0], self.s.latent_dim, generator=self.gen)
        fake = self.G(z, c)
        self.opt_d.zero_grad(set_to_none=True)
        d_real, d_fake = self.D(x, c), self.D(fake.detach(), c)
        d_loss = F.relu(1.0 - d_real).mean() + F.relu(1.0 + d_fake).mean()
        d_loss.backward()
        self.opt_d.step()
        self.opt_g.zero_grad(set_to_none=True)
        g_loss = -self.D(fake, c).mean()
        g_loss.backward()
        self.opt_g.step()
        return {"d_loss": float(d_loss.detach()), "g_loss": float(g_loss.detach()),
                "d_real": float(d_real.detach().mean()), "d_fake": float(d_fake.detach().mean())}

    def encoder_step(self, data: torch.Tensor) -> dict[str, float]:
        """One izi_f update of E with G and D frozen."""
        x, c = self.batch(data)
        self.opt_e.zero_grad(set_to_none=True)
        rec = self.G(self.E(x, c), c)
        with torch.no_grad():
            fx = self.D.features(x, c)
        img = F.mse_loss(rec, x)
        feat = F.mse_loss(self.D.features(rec, c), fx)
        (img + self.s.kappa * feat).backward()
        self.opt_e.step()
        return {"e_loss": float(img.detach() + self.s.kappa * feat.detach()), "e_img": float(img.detach()),
                "e_feat": float(feat.detach())}

    def held_error(self, held: torch.Tensor, phase: str) -> float:
        """Held-out MSE: latent search from a fixed random z in the GAN phase, ``G(E(x, c), c)`` after."""
        x, c = held[:, :1], held[:, 1:]
        was = self.G.training, self.D.training, self.E.training
        self.G.eval(), self.D.eval(), self.E.eval()
        if phase == "cond-gan":
            # a fixed random start (z = 0 is a saddle of a freshly initialised G: zero gradient)
            z0 = torch.randn(x.shape[0], self.s.latent_dim, generator=torch.Generator().manual_seed(self.s.seed))
            z, _, _ = cond_latent_search(self.G, self.D, x, c, z0, steps=self.s.eval_steps, lam=0.1)
        else:
            with torch.no_grad():
                z = self.E(x, c)
        with torch.no_grad():
            err = float(F.mse_loss(self.G(z, c), x))
        self.G.train(was[0]), self.D.train(was[1]), self.E.train(was[2])
        return err


def _check(run: _Run, phase: str, it: int, losses: dict) -> GanWarning | None:
    """Return a warning the first time a collapse sign shows, else None."""
    if not all(math.isfinite(v) for v in losses.values()):
        return GanWarning(phase, it, "diverged", f"{phase} iteration {it}: a loss is not finite ({losses})")
    if phase == "cond-gan":
        run.low_d = run.low_d + 1 if losses["d_loss"] < run.s.collapse_eps else 0
        if run.low_d == run.s.collapse_patience:
            return GanWarning(phase, it, "collapse", f"discriminator loss below {run.s.collapse_eps} for "
                                                     f"{run.low_d} iterations: D wins, G learns nothing")
    err = losses.get("holdout_mse")
    if err is not None:
        if err > run.s.rise_factor * run.best_eval and not run.rising_warned:
            run.rising_warned = True
            return GanWarning(phase, it, "rising", f"held-out reconstruction error {err:.4f} is over "
                                                   f"{run.s.rise_factor}x its best {run.best_eval:.4f}")
        run.best_eval = min(run.best_eval, err)
    return None


def _phase(run: _Run, phase: str, data: torch.Tensor, held: torch.Tensor | None, total: int,
           should_stop: StopFlag | None) -> Generator[TrainEvent | GanWarning, None, None]:
    step: Callable[[torch.Tensor], dict] = run.gan_step if phase == "cond-gan" else run.encoder_step
    run.best_eval, run.rising_warned = math.inf, False
    for it in range(1, total + 1):
        if should_stop is not None and should_stop():
            raise Cancelled(f"conditioned GAN training stopped at {phase} iteration {it}")
        losses = step(data)
        if held is not None and len(held) and (it % run.s.eval_every == 0 or it == total):
            losses["holdout_mse"] = run.held_error(held, phase)
        if it % run.s.eval_every == 0 or it == total:
            run.history.append({"phase": phase, "iteration": it, **losses})
        warning = _check(run, phase, it, losses)
        yield TrainEvent(phase, 1, 1, it, total, losses)
        if warning is not None:
            log.warning(warning.message)
            run.warnings.append(warning)
            yield warning
            if run.s.stop_on_collapse and phase == "cond-gan" and warning.kind in ("collapse", "diverged"):
                return


def iter_train_cond_gan(stacks: np.ndarray, settings: CondGanSettings | None = None, *,
                        held_out: np.ndarray | None = None,
                        should_stop: StopFlag | None = None) -> Generator[TrainEvent | GanWarning, None, CondGan]:
    """Train G(z, c) and D(x, c), then E(x, c), on normal context stacks.

    Parameters
    ----------
    stacks : ndarray, shape (n, 1 + K, T, T)
        Normal training stacks, raw intensities; ``K = 0`` trains the
        unconditioned ablation of the same networks.
    settings : CondGanSettings, optional
    held_out : ndarray, shape (m, 1 + K, T, T), optional
        Normal stacks never trained on; their reconstruction MSE is logged
        every ``eval_every`` iterations as ``holdout_mse``.
    should_stop : callable, optional
        Polled before every iteration; raises :class:`~ctreview.errors.Cancelled`.

    Yields
    ------
    TrainEvent or GanWarning

    Returns
    -------
    CondGan
    """
    s = settings or CondGanSettings()
    if stacks.ndim != 4 or stacks.shape[-1] != s.tile_size or stacks.shape[-2] != s.tile_size:
        raise ValueError(f"stacks must be (n, 1 + K, {s.tile_size}, {s.tile_size}), not {stacks.shape}")
    window = fit_window(stacks, s.percentiles)
    data = normalise(stacks, window)
    held = normalise(held_out, window) if held_out is not None else None
    run = _Run(s, stacks.shape[1] - 1)
    yield from _phase(run, "cond-gan", data, held, s.iterations, should_stop)
    frozen(run.G, run.D)
    yield from _phase(run, "cond-encoder", data, held, s.encoder_iterations, should_stop)
    frozen(run.E)
    return CondGan(run.G, run.D, run.E, window, stacks.shape[1] - 1, run.history, run.warnings)


def train_cond_gan(stacks: np.ndarray, settings: CondGanSettings | None = None, *,
                   held_out: np.ndarray | None = None, should_stop: StopFlag | None = None,
                   on_event: Callable[[TrainEvent | GanWarning], None] | None = None) -> CondGan:
    """Run :func:`iter_train_cond_gan` to its end and return the trained :class:`CondGan`."""
    return drain(iter_train_cond_gan(stacks, settings, held_out=held_out, should_stop=should_stop), on_event)
