"""AnoGAN's latent search over z with the context c held fixed, started from E(x, c).

The search is :func:`ctreview.model.search.latent_search` unchanged in its
maths (Adam on z, up to ``steps`` steps, per-tile loss
``(1 - lam) * sum|x - G(z, c)| + lam * sum|f(x, c) - f(G(z, c), c)|``, a tile
leaves the batch when it stops improving); only G and f now also take the
tile's context. Tensors: tiles ``(n, 1, T, T)``, context ``(n, K, T, T)``,
latents ``(n, d)``.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ctreview.model.search import _track_best, paper_loss


def cond_encode(encoder: nn.Module, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Return ``E(x, c)``, shape ``(n, d)``, without building a graph."""
    with torch.inference_mode():
        return encoder(x, c).clone()


def cond_reconstruct(generator: nn.Module, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Return ``G(z, c)``, shape ``(n, 1, T, T)``, without building a graph."""
    with torch.inference_mode():
        return generator(z, c).clone()


def cond_latent_search(generator: nn.Module, discriminator: nn.Module, x: torch.Tensor, c: torch.Tensor,
                       z0: torch.Tensor, *, steps: int = 500, lam: float = 0.1, lr: float = 0.02,
                       patience: int = 25, tol: float = 1e-3,
                       should_stop: Callable[[], bool] | None = None) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Batched latent search over z with c fixed, with per-tile early stopping.

    Parameters
    ----------
    generator, discriminator : nn.Module
        Frozen :class:`~ctreview.model.cond_nets.CondGenerator` and
        :class:`~ctreview.model.cond_nets.CondDiscriminator`.
    x : Tensor, shape (n, 1, T, T)
        Normalised centre tiles.
    c : Tensor, shape (n, K, T, T)
        Their context tiles (never optimised).
    z0 : Tensor, shape (n, d)
        Starting latents, usually ``E(x, c)``.
    steps, lam, lr, patience, tol, should_stop
        As in :func:`ctreview.model.search.latent_search`.

    Returns
    -------
    z : Tensor, shape (n, d)
        Best latent per tile.
    loss : Tensor, shape (n,)
        The paper's loss at that latent.
    steps_run : int
        Steps taken by the longest-running tile.
    """
    n = x.shape[0]
    with torch.no_grad():
        fx = discriminator.features(x, c)
    best_z = z0.detach().clone()
    best_loss = torch.full((n,), float("inf"), device=x.device)
    since = torch.zeros(n, dtype=torch.long, device=x.device)
    active = torch.arange(n, device=x.device)
    z = z0.detach().clone()
    m, v = torch.zeros_like(z), torch.zeros_like(z)
    b1, b2, eps = 0.9, 0.999, 1e-8
    step = 0
    with torch.enable_grad():
        for step in range(1, steps + 1):
            z.requires_grad_(True)
            ca = c[active]
            g = generator(z, ca)
            loss = paper_loss(x[active], fx[active], g, discriminator.features(g, ca), lam)
            (grad,) = torch.autograd.grad(loss.sum(), z)
            with torch.no_grad():
                _track_best(loss, z, active, best_loss, best_z, since, tol)
                # manual Adam, as in search.py, so a row can leave without resetting the others' moments
                m.mul_(b1).add_(grad, alpha=1 - b1)
                v.mul_(b2).addcmul_(grad, grad, value=1 - b2)
                z = z.detach() - lr * (m / (1 - b1 ** step)) / ((v / (1 - b2 ** step)).sqrt() + eps)
                keep = since[active] < patience
                if not bool(keep.all()):
                    active, z, m, v = active[keep], z[keep], m[keep], v[keep]
            if active.numel() == 0 or (should_stop is not None and step % 10 == 0 and should_stop()):
                break
    return best_z, best_loss, step
