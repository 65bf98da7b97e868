"""Map tiles to latent vectors and measure how far each tile is from normal.

Two ways to find z for a tile x:

* :func:`encode` (f-AnoGAN): ``z = E(x)``, one forward pass;
* :func:`latent_search` (AnoGAN, Schlegl et al. 2017): Adam on z for up to
  ``steps`` steps minimising
  ``(1 - lam) * sum|x - G(z)| + lam * sum|f(x) - f(G(z))|``.
  All tiles of a batch are searched together: their losses are summed, and
  as Adam is element-wise each tile follows exactly the path it would follow
  alone. A tile whose loss stops improving leaves the active batch.

Tensors are ``(n, 1, T, T)`` tiles in ``[-1, 1]`` and ``(n, d)`` latents.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn


def frozen(*nets: nn.Module) -> None:
    """Put networks in eval mode with gradients off (weights are constants when scoring)."""
    for net in nets:
        net.eval()
        for p in net.parameters():
            p.requires_grad_(False)


def paper_loss(x: torch.Tensor, fx: torch.Tensor, g: torch.Tensor, fg: torch.Tensor,
               lam: float) -> torch.Tensor:
    """AnoGAN's per-tile loss, shape ``(n,)``: residual sum and feature-matching sum."""
    res = (x - g).abs().flatten(1).sum(1)
    feat = (fx - fg).abs().flatten(1).sum(1)
    return (1.0 - lam) * res + lam * feat


def encode(encoder: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Return ``E(x)``, shape ``(n, d)``, without building a graph."""
    with torch.inference_mode():
        return encoder(x).clone()


def latent_search(generator: nn.Module, discriminator: nn.Module, x: torch.Tensor,
                  z0: torch.Tensor, *, steps: int = 500, lam: float = 0.1, lr: float = 0.02,
                  patience: int = 25, tol: float = 1e-3, should_stop: Callable[[], bool] | None = None,
                  context: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Batched AnoGAN latent search with per-tile early stopping.

    Parameters
    ----------
    generator, discriminator : nn.Module
        Frozen networks (see :func:`frozen`).
    x : Tensor, shape (n, 1, T, T)
        Normalised tiles.
    z0 : Tensor, shape (n, d)
        Starting latents (random for ``anogan``, ``E(x)`` for ``hybrid``).
    steps : int
        Maximum Adam steps per tile.
    lam : float
        Weight of the feature-matching term.
    lr : float
        Adam step size on z.
    patience, tol : int, float
        A tile stops when its best loss has not dropped by a fraction ``tol``
        for ``patience`` steps.
    should_stop : callable, optional
        Checked every 10 steps; when true the search ends early with the best z so far.
    context : Tensor, shape (n, K, T, T), optional
        A conditioned GAN's context tiles, held fixed: the networks are then
        called ``G(z, c)`` and ``D.features(x, c)`` (see :mod:`ctreview.model.nets.conditioned`).

    Returns
    -------
    z : Tensor, shape (n, d)
        Best latent per tile.
    loss : Tensor, shape (n,)
        Loss at that latent (the paper's anomaly score).
    steps_run : int
        Steps taken by the longest-running tile.
    """
    n = x.shape[0]

    def given(rows: torch.Tensor) -> tuple[torch.Tensor, ...]:  # the context of the rows still searched
        return () if context is None else (context[rows],)

    with torch.no_grad():
        fx = discriminator.features(x, *given(torch.arange(n, device=x.device)))
    best_z = z0.detach().clone()
    best_loss = torch.full((n,), float("inf"), device=x.device)
    since = torch.zeros(n, dtype=torch.long, device=x.device)
    active = torch.arange(n, device=x.device)
    z = z0.detach().clone()
    m = torch.zeros_like(z)
    v = torch.zeros_like(z)
    b1, b2, eps = 0.9, 0.999, 1e-8
    step = 0
    with torch.enable_grad():
        for step in range(1, steps + 1):
            z.requires_grad_(True)
            ctx = given(active)
            g = generator(z, *ctx)
            loss = paper_loss(x[active], fx[active], g, discriminator.features(g, *ctx), lam)
            (grad,) = torch.autograd.grad(loss.sum(), z)
            with torch.no_grad():
                _track_best(loss, z, active, best_loss, best_z, since, tol)
                # Manual Adam so rows can leave the batch without resetting the others' moments.
                m.mul_(b1).add_(grad, alpha=1 - b1)
                v.mul_(b2).addcmul_(grad, grad, value=1 - b2)
                mhat = m / (1 - b1 ** step)
                vhat = v / (1 - b2 ** step)
                z = z.detach() - lr * mhat / (vhat.sqrt() + eps)
                keep = since[active] < patience
                if not bool(keep.all()):
                    active, z, m, v = active[keep], z[keep], m[keep], v[keep]
            if active.numel() == 0 or (should_stop is not None and step % 10 == 0 and should_stop()):
                break
    return best_z, best_loss, step


def _track_best(loss: torch.Tensor, z: torch.Tensor, active: torch.Tensor, best_loss: torch.Tensor,
                best_z: torch.Tensor, since: torch.Tensor, tol: float) -> None:
    loss = loss.detach()
    improved = loss < best_loss[active] * (1.0 - tol)
    better = loss < best_loss[active]
    idx = active[better]
    best_loss[idx] = loss[better]
    best_z[idx] = z.detach()[better]
    since[active] = torch.where(improved, torch.zeros_like(since[active]), since[active] + 1)


def reconstruct(generator: nn.Module, discriminator: nn.Module, x: torch.Tensor, z: torch.Tensor,
                lam: float, shift: int = 2) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return the residual ``|x - G(z)|`` ``(n, T, T)``, its shift-tolerant form and the paper score ``(n,)``."""
    with torch.inference_mode():
        g = generator(z)
        loss = paper_loss(x, discriminator.features(x), g, discriminator.features(g), lam)
        return (x - g).abs()[:, 0].clone(), shift_tolerant(x[:, 0], g[:, 0], shift).clone(), loss.clone()


def shift_tolerant(x: torch.Tensor, g: torch.Tensor, radius: int) -> torch.Tensor:
    """``min`` over shifts ``|d| <= radius`` of ``|x(p) - g(p + d)|``, shape ``(n, T, T)``.

    A reconstruction that puts an edge or a small wire a pixel or two off
    leaves a large plain residual along every edge; that is not an anomaly.
    Missing or extra blobs wider than the shift still leave a residual.
    """
    if radius <= 0:
        return (x - g).abs()
    t = x.shape[-1]
    padded = F.pad(g[:, None], (radius,) * 4, mode="replicate")[:, 0]
    best = None
    for dy in range(2 * radius + 1):
        for dx in range(2 * radius + 1):
            d = (x - padded[:, dy:dy + t, dx:dx + t]).abs()
            best = d if best is None else torch.minimum(best, d)
    return best


def gaussian_kernel(sigma: float, device: torch.device) -> torch.Tensor:
    """Return a normalised 2-D Gaussian kernel, shape ``(1, 1, k, k)``."""
    radius = max(1, int(round(3 * sigma)))
    ax = torch.arange(-radius, radius + 1, dtype=torch.float32, device=device)
    g = torch.exp(-0.5 * (ax / sigma) ** 2)
    g = g / g.sum()
    return (g[:, None] * g[None, :])[None, None]


def smooth(maps: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian-smooth maps ``(n, T, T)`` with reflected borders; returns ``(n, T, T)``."""
    if sigma <= 0:
        return maps
    k = gaussian_kernel(sigma, maps.device)
    pad = k.shape[-1] // 2
    padded = F.pad(maps[:, None], (pad, pad, pad, pad), mode="reflect")
    return F.conv2d(padded, k)[:, 0]
