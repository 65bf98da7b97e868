"""AnoGAN's latent search over z with the context c held fixed, started from E(x, c).

The search is :func:`ctreview.model.search.latent_search` itself, given the
context (Adam on z, up to ``steps`` steps, per-tile loss
``(1 - lam) * sum|x - G(z, c)| + lam * sum|f(x, c) - f(G(z, c), c)|``, a tile
leaves the batch when it stops improving); only G and f also take the tile's
context. Tensors: tiles ``(n, 1, T, T)``, context ``(n, K, T, T)``,
latents ``(n, d)``.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ctreview.model.anogan.search import latent_search


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
    return latent_search(generator, discriminator, x, z0, steps=steps, lam=lam, lr=lr, patience=patience,
                         tol=tol, should_stop=should_stop, context=c)
