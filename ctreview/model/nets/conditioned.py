"""Context-conditioned AnoGAN networks: G(z, c), D(x, c), E(x, c).

``x`` is a centre tile ``(n, 1, T, T)`` and ``c`` the same tile in nearby
slices, ``(n, K, T, T)`` with ``K = len(offsets)``; intensities in ``[-1, 1]``.
A part is prismatic over most of its height, so the neighbours already say
most of what the centre looks like: the generator sees ``c`` at every scale
(a small conv stack encodes it, its maps are concatenated to the
generator's) and only has to model what differs from the neighbours. With
``K = 0`` all three networks reduce to an unconditioned DCGAN of the same
size, the ablation the tests and the bench compare against.

The discriminator is spectrally normalised (Miyato et al. 2018): with the
hinge loss it trains stably without a gradient penalty, which keeps a CPU
iteration cheap. Pure torch, no Qt.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import spectral_norm

from ctreview.model.config import NetConfig


def _groups(channels: int) -> int:
    # GroupNorm has no batch statistics: train and eval passes agree, which the latent search needs.
    return max(1, min(8, channels // 4))


def _init(module: nn.Module) -> None:
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)


class ContextPyramid(nn.Module):
    """Encode context ``(n, K, T, T)`` into maps at every scale ``T, T/2, ..., 4``.

    ``forward`` returns a list, finest first: entry ``i`` has shape
    ``(n, w_i, T / 2**i, T / 2**i)``; an empty list when ``K = 0``.
    """

    def __init__(self, config: NetConfig, context: int) -> None:
        super().__init__()
        self.context = context
        self.widths: list[int] = []
        self.stages = nn.ModuleList()
        if context == 0:
            return
        ch = max(4, config.width // 2)
        self.stages.append(nn.Sequential(nn.Conv2d(context, ch, 3, 1, 1), nn.LeakyReLU(0.2, True)))
        self.widths.append(ch)
        for _ in range(config.levels):  # T -> 4 takes `levels` halvings
            self.stages.append(nn.Sequential(nn.Conv2d(ch, ch * 2, 4, 2, 1), nn.GroupNorm(_groups(ch * 2), ch * 2),
                                             nn.LeakyReLU(0.2, True)))
            ch *= 2
            self.widths.append(ch)

    def forward(self, c: torch.Tensor) -> list[torch.Tensor]:
        maps: list[torch.Tensor] = []
        h = c
        for stage in self.stages:
            h = stage(h)
            maps.append(h)
        return maps


class CondGenerator(nn.Module):
    """Map z ``(n, latent_dim)`` and context ``(n, K, T, T)`` to tiles ``(n, 1, T, T)`` in ``[-1, 1]``."""

    def __init__(self, config: NetConfig, context: int) -> None:
        super().__init__()
        self.config, self.context = config, context
        self.pyramid = ContextPyramid(config, context)
        # pyramid widths by resolution, coarsest first: index i is 4 * 2**i, index `levels` is T
        extra = list(reversed(self.pyramid.widths)) if context else [0] * (config.levels + 1)
        ch = config.width * 2 ** (config.levels - 1)
        self.stem = nn.Sequential(nn.ConvTranspose2d(config.latent_dim, ch, 4, 1, 0),
                                  nn.GroupNorm(_groups(ch), ch), nn.ReLU(True))
        self.ups = nn.ModuleList()
        for i in range(config.levels):
            out = max(8, ch // 2)
            self.ups.append(nn.Sequential(nn.ConvTranspose2d(ch + extra[i], out, 4, 2, 1),
                                          nn.GroupNorm(_groups(out), out), nn.ReLU(True)))
            ch = out
        # at T the raw context joins too, so the output can copy what the neighbours show pixel for pixel
        self.head = nn.Conv2d(ch + extra[-1] + context, 1, 3, 1, 1)
        self.apply(_init)

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        h = self.stem(z.view(z.shape[0], -1, 1, 1))
        maps = list(reversed(self.pyramid(c))) if self.context else []
        for i, up in enumerate(self.ups):
            h = up(torch.cat([h, maps[i]], 1) if maps else h)
        if maps and c is not None:
            h = torch.cat([h, maps[-1], c], 1)
        return torch.tanh(self.head(h))


class _CondTrunk(nn.Module):
    """Strided convolutions from ``(n, 1 + K, T, T)`` down to ``(n, C, 4, 4)``, optionally spectrally normalised."""

    def __init__(self, config: NetConfig, context: int, sn: bool) -> None:
        super().__init__()
        wrap = spectral_norm if sn else (lambda m: m)
        ch = config.width
        layers: list[nn.Module] = [wrap(nn.Conv2d(1 + context, ch, 4, 2, 1)), nn.LeakyReLU(0.2, True)]
        for _ in range(config.levels - 1):
            layers += [wrap(nn.Conv2d(ch, ch * 2, 4, 2, 1)), nn.LeakyReLU(0.2, True)]
            ch *= 2
        self.net = nn.Sequential(*layers)
        self.channels = ch

    def forward(self, x: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        return self.net(torch.cat([x, c], 1) if c is not None and c.shape[1] else x)


class CondDiscriminator(nn.Module):
    """Score a tile given its context (logit, higher = real) and expose its features f(x, c).

    ``features(x, c)`` is the last hidden layer, shape ``(n, C, 4, 4)``: the
    f of AnoGAN's feature-matching term. ``forward(x, c)`` returns ``(n,)``.
    """

    def __init__(self, config: NetConfig, context: int) -> None:
        super().__init__()
        self.config, self.context = config, context
        self.trunk = _CondTrunk(config, context, sn=True)
        self.head = spectral_norm(nn.Conv2d(self.trunk.channels, 1, 4, 1, 0))

    def features(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.trunk(x, c)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.trunk(x, c)).view(-1)


class CondEncoder(nn.Module):
    """Map a tile ``(n, 1, T, T)`` and its context ``(n, K, T, T)`` to z ``(n, latent_dim)`` (f-AnoGAN's E)."""

    def __init__(self, config: NetConfig, context: int) -> None:
        super().__init__()
        self.config, self.context = config, context
        self.trunk = _CondTrunk(config, context, sn=False)
        self.head = nn.Conv2d(self.trunk.channels, config.latent_dim, 4, 1, 0)
        self.apply(_init)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.trunk(x, c)).flatten(1)
