"""Single optimisation steps of GAN and encoder training, and batch sampling.

Every random draw goes through one ``torch.Generator`` whose state is
checkpointed, so a resumed run continues exactly where it stopped.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ctreview.model.nets.dcgan import Discriminator, Encoder, Generator


def sample_batch(data: torch.Tensor, batch: int, gen: torch.Generator, flip: bool, rot90: bool) -> torch.Tensor:
    """Draw ``batch`` tiles ``(b, 1, T, T)`` with the augmentations the profile allows."""
    idx = torch.randint(0, data.shape[0], (batch,), generator=gen)
    x = data[idx]
    if flip:
        mask = torch.rand(batch, generator=gen) < 0.5
        x = torch.where(mask[:, None, None, None], x.flip(-1), x)
        mask = torch.rand(batch, generator=gen) < 0.5
        x = torch.where(mask[:, None, None, None], x.flip(-2), x)
    if rot90:
        turns = torch.randint(0, 4, (batch,), generator=gen)
        x = torch.stack([torch.rot90(t, int(k), dims=(-2, -1)) for t, k in zip(x, turns)])
    return x


def dcgan_step(G: Generator, D: Discriminator, opt_g, opt_d, real: torch.Tensor,
               z: torch.Tensor) -> dict[str, float]:
    """One DCGAN update (non-saturating loss, as in AnoGAN)."""
    ones = torch.ones(real.shape[0], device=real.device)
    zeros = torch.zeros_like(ones)
    fake = G(z)
    opt_d.zero_grad(set_to_none=True)
    d_loss = F.binary_cross_entropy_with_logits(D(real), ones) + \
        F.binary_cross_entropy_with_logits(D(fake.detach()), zeros)
    d_loss.backward()
    opt_d.step()
    opt_g.zero_grad(set_to_none=True)
    g_loss = F.binary_cross_entropy_with_logits(D(fake), ones)
    g_loss.backward()
    opt_g.step()
    return {"d_loss": float(d_loss.detach()), "g_loss": float(g_loss.detach())}


def _gradient_penalty(D: Discriminator, real: torch.Tensor, fake: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    eps = torch.rand(real.shape[0], 1, 1, 1, generator=gen).to(real.device)
    mix = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(D(mix).sum(), mix, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1.0) ** 2).mean()


def wgan_gp_step(G: Generator, D: Discriminator, opt_g, opt_d, reals: list[torch.Tensor],
                 zs: list[torch.Tensor], gen: torch.Generator, gp_weight: float = 10.0) -> dict[str, float]:
    """One WGAN-GP generator update after ``len(reals)`` critic updates."""
    for real, z in zip(reals, zs):
        with torch.no_grad():
            fake = G(z)
        opt_d.zero_grad(set_to_none=True)
        wdist = D(real).mean() - D(fake).mean()
        gp = _gradient_penalty(D, real, fake, gen)
        (-wdist + gp_weight * gp).backward()
        opt_d.step()
    opt_g.zero_grad(set_to_none=True)
    g_loss = -D(G(zs[-1])).mean()
    g_loss.backward()
    opt_g.step()
    return {"d_loss": float(-wdist.detach()), "gp": float(gp.detach()), "g_loss": float(g_loss.detach())}


def encoder_step(E: Encoder, G: Generator, D: Discriminator, opt_e, real: torch.Tensor,
                 kappa: float) -> dict[str, float]:
    """One izi_f update of the encoder (f-AnoGAN): image + kappa * feature residual."""
    opt_e.zero_grad(set_to_none=True)
    rec = G(E(real))
    with torch.no_grad():
        f_real = D.features(real)
    img = F.mse_loss(rec, real)
    feat = F.mse_loss(D.features(rec), f_real)
    loss = img + kappa * feat
    loss.backward()
    opt_e.step()
    return {"e_loss": float(loss.detach()), "e_img": float(img.detach()), "e_feat": float(feat.detach())}


def refresh_batchnorm(G: Generator, latent_dim: int, gen: torch.Generator, device: torch.device,
                      batches: int = 20, batch: int = 64) -> None:
    """Recompute the generator's BatchNorm running statistics over fresh z.

    During training they are an exponential average over a moving target;
    eval-mode output (used for scoring) is closer to train-mode output with
    statistics of the final weights.
    """
    norms = [m for m in G.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    if not norms:
        return
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    G.train()
    with torch.no_grad():
        for _ in range(batches):
            G(torch.randn(batch, latent_dim, generator=gen).to(device))
    for m, mom in zip(norms, saved):
        m.momentum = mom
    G.eval()
