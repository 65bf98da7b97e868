"""DCGAN networks for square grayscale tiles: generator, discriminator, encoder.

All three work on tensors shaped ``(n, 1, T, T)`` with ``T`` a power of two
from 32 to 256, intensities in ``[-1, 1]``. Widths double at every halving
of the resolution, as in Radford et al. (DCGAN) and Schlegl et al. (AnoGAN).
"""
from __future__ import annotations

import torch
from torch import nn

from ctreview.model.config import NetConfig


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if kind == "layer":
        return nn.GroupNorm(1, channels)
    return nn.Identity()


def _init_weights(module: nn.Module) -> None:
    # DCGAN initialisation: N(0, 0.02) for convs, N(1, 0.02) for norm scales.
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm2d, nn.InstanceNorm2d, nn.GroupNorm)) and module.weight is not None:
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class Generator(nn.Module):
    """Map z, shape ``(n, latent_dim)``, to tiles ``(n, 1, T, T)`` in ``[-1, 1]``."""

    def __init__(self, config: NetConfig) -> None:
        super().__init__()
        self.config = config
        ch = config.width * 2 ** (config.levels - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(config.latent_dim, ch, 4, 1, 0, bias=False),
            _norm(config.g_norm, ch), nn.ReLU(True)]
        for _ in range(config.levels - 1):
            layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False),
                       _norm(config.g_norm, ch // 2), nn.ReLU(True)]
            ch //= 2
        layers += [nn.ConvTranspose2d(ch, 1, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.apply(_init_weights)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.view(z.shape[0], -1, 1, 1))


class _ConvTrunk(nn.Module):
    """Strided convolutions from ``(n, 1, T, T)`` down to ``(n, C, 4, 4)``."""

    def __init__(self, config: NetConfig) -> None:
        super().__init__()
        ch = config.width
        layers: list[nn.Module] = [nn.Conv2d(1, ch, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)]
        for _ in range(config.levels - 1):
            layers += [nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=False),
                       _norm(config.d_norm, ch * 2), nn.LeakyReLU(0.2, True)]
            ch *= 2
        self.net = nn.Sequential(*layers)
        self.channels = ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Discriminator(nn.Module):
    """Score tiles as real (logit > 0) and expose the feature map f(x).

    ``features(x)`` is the last hidden layer, shape ``(n, C, 4, 4)``: the
    f(x) of AnoGAN's feature-matching term.
    """

    def __init__(self, config: NetConfig) -> None:
        super().__init__()
        self.config = config
        self.trunk = _ConvTrunk(config)
        self.head = nn.Conv2d(self.trunk.channels, 1, 4, 1, 0, bias=False)
        self.apply(_init_weights)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.trunk(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(x)).view(-1)


class Encoder(nn.Module):
    """Map tiles ``(n, 1, T, T)`` to latent vectors ``(n, latent_dim)`` (f-AnoGAN's E)."""

    def __init__(self, config: NetConfig) -> None:
        super().__init__()
        self.config = config
        self.trunk = _ConvTrunk(config)
        self.head = nn.Conv2d(self.trunk.channels, config.latent_dim, 4, 1, 0)
        self.apply(_init_weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(x)).flatten(1)


def count_flops(config: NetConfig) -> dict[str, int]:
    """Return multiply-accumulate counts x2 (FLOPs) of one tile's forward pass per network."""
    flops = {}
    for name, net in (("generator", Generator(config)), ("discriminator", Discriminator(config)),
                      ("encoder", Encoder(config))):
        total = 0
        hooks = []

        def hook(mod, inp, out):
            nonlocal total
            w = mod.weight
            if isinstance(mod, nn.ConvTranspose2d):
                total += 2 * inp[0].shape[2] * inp[0].shape[3] * w.numel()
            else:
                total += 2 * out.shape[2] * out.shape[3] * w.numel()

        for mod in net.modules():
            if isinstance(mod, (nn.Conv2d, nn.ConvTranspose2d)):
                hooks.append(mod.register_forward_hook(hook))
        net.eval()
        with torch.inference_mode():
            if name == "generator":
                net(torch.zeros(1, config.latent_dim))
            else:
                net(torch.zeros(1, 1, config.tile_size, config.tile_size))
        for h in hooks:
            h.remove()
        flops[name] = int(total)
    return flops
