"""ResNet-18 and Wide-ResNet-50-2 (He et al. 2016; Zagoruyko & Komodakis 2016), truncated.

Module names are torchvision's (``conv1``, ``bn1``, ``layer1`` .. ``layer4``,
``downsample.0/1``), so a torchvision state dict saved by a user loads with
``strict=True`` for the layers kept; we do not depend on torchvision.
Bottleneck blocks stride in the 3x3 convolution (torchvision's "v1.5").
PatchCore and PaDiM tap ``layer2`` (stride 8) and ``layer3`` (stride 16).

Tensors are ``(n, c, y, x)``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

LAYERS = ("layer1", "layer2", "layer3", "layer4")
STRIDES = {"layer1": 4, "layer2": 8, "layer3": 16, "layer4": 32}


def _conv(cin: int, cout: int, k: int, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, groups=groups, bias=False)


def _downsample(cin: int, cout: int, stride: int) -> nn.Sequential | None:
    if stride == 1 and cin == cout:
        return None
    return nn.Sequential(_conv(cin, cout, 1, stride), nn.BatchNorm2d(cout))


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with an identity (or 1x1 projected) shortcut."""

    expansion = 1

    def __init__(self, cin: int, planes: int, stride: int, width: int = 64) -> None:
        super().__init__()
        self.conv1, self.bn1 = _conv(cin, planes, 3, stride), nn.BatchNorm2d(planes)
        self.conv2, self.bn2 = _conv(planes, planes, 3), nn.BatchNorm2d(planes)
        self.downsample = _downsample(cin, planes, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        return F.relu(h + (x if self.downsample is None else self.downsample(x)))


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (strided), 1x1 expand by 4, with a shortcut."""

    expansion = 4

    def __init__(self, cin: int, planes: int, stride: int, width: int = 64) -> None:
        super().__init__()
        mid = planes * width // 64
        self.conv1, self.bn1 = _conv(cin, mid, 1), nn.BatchNorm2d(mid)
        self.conv2, self.bn2 = _conv(mid, mid, 3, stride), nn.BatchNorm2d(mid)
        self.conv3, self.bn3 = _conv(mid, planes * 4, 1), nn.BatchNorm2d(planes * 4)
        self.downsample = _downsample(cin, planes * 4, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.bn1(self.conv1(x)))
        h = F.relu(self.bn2(self.conv2(h)))
        h = self.bn3(self.conv3(h))
        return F.relu(h + (x if self.downsample is None else self.downsample(x)))


class ResNet(nn.Module):
    """Stem and the first ``depth`` residual layers of a torchvision-style ResNet.

    Parameters
    ----------
    block : BasicBlock or Bottleneck
    repeats : tuple of 4 int
        Blocks per layer (ResNet-18: 2, 2, 2, 2; ResNet-50: 3, 4, 6, 3).
    width : int
        Bottleneck width per group (64; 128 for Wide-ResNet-50-2).
    depth : int
        Number of layers kept (1..4).
    """

    def __init__(self, block, repeats: tuple[int, ...], width: int = 64, depth: int = 4) -> None:
        super().__init__()
        if not 1 <= depth <= 4:
            raise ValueError(f"depth must be 1..4, got {depth}")
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        cin = 64
        for i in range(depth):
            planes, stride = 64 * 2 ** i, 1 if i == 0 else 2
            blocks = []
            for r in range(repeats[i]):
                blocks.append(block(cin, planes, stride if r == 0 else 1, width))
                cin = planes * block.expansion
            setattr(self, LAYERS[i], nn.Sequential(*blocks))
        self.channels = {LAYERS[i]: 64 * 2 ** i * block.expansion for i in range(4)}

    def tap_info(self, tap: str) -> tuple[int, int]:
        """``(stride, channels)`` of a tap named ``"layer1"`` .. ``"layer4"``."""
        if tap not in STRIDES:
            raise ValueError(f"ResNet taps are {', '.join(LAYERS)}, not {tap!r}")
        return STRIDES[tap], self.channels[tap]

    @staticmethod
    def depth_for(taps: tuple[str, ...]) -> int:
        """Number of layers to keep so that every tap is computed."""
        unknown = [t for t in taps if t not in LAYERS]
        if unknown:
            raise ValueError(f"ResNet taps are {', '.join(LAYERS)}, not {unknown[0]!r}")
        return 1 + max(LAYERS.index(t) for t in taps)

    def forward_taps(self, x: torch.Tensor, taps: tuple[str, ...]) -> dict[str, torch.Tensor]:
        """Run the truncated network on normalised RGB ``x`` (n, 3, y, x); return the tapped maps."""
        h = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, stride=2, padding=1)
        out: dict[str, torch.Tensor] = {}
        for name in LAYERS[:self.depth_for(taps)]:
            h = getattr(self, name)(h)
            if name in taps:
                out[name] = h
        return out


def resnet18(depth: int = 4) -> ResNet:
    """ResNet-18 (BasicBlock, 2-2-2-2): layer2 128 ch, layer3 256 ch."""
    return ResNet(BasicBlock, (2, 2, 2, 2), depth=depth)


def wide_resnet50_2(depth: int = 4) -> ResNet:
    """Wide-ResNet-50-2 (Bottleneck of twice the width, 3-4-6-3): layer2 512 ch, layer3 1024 ch."""
    return ResNet(Bottleneck, (3, 4, 6, 3), width=128, depth=depth)
