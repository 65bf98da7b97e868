"""The learned defect head: a small U-Net that maps a slice and its z-context to defect logits.

Input ``(n, C, H, W)``: channel 0 the slice, channels 1.. the same place in
context slices (see :mod:`ctreview.training.context`), then any extra maps
(a GAN reconstruction, a residual). Output ``(n, 1, H, W)`` logits of
"this pixel is a defect". The network is fully convolutional and uses
batch normalisation, which is per-pixel in eval mode, so a head trained on
64-pixel tiles scores whole slices of any size: inputs are padded to a
multiple of ``2 ** (levels - 1)`` and cropped back.

Trained by :func:`ctreview.training.head_train.train_head` on normal tiles
with synthetic defects (DRAEM, Zavrtanik et al. 2021, without the
reconstructive subnetwork). Stored only inside a fused model, as its head scorer
(:mod:`ctreview.model.scorers.head_scorer`).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

HEADROOM = 0.5
PRIOR = 0.01
"""Initial defect probability of the output bias: training starts from "all normal" (RetinaNet)."""

ExtraFn = Callable[[np.ndarray], np.ndarray]
"""Maps raw stacks ``(n, C, H, W)`` to extra input maps ``(n, E, H, W)`` float32."""


@dataclass(frozen=True)
class HeadConfig:
    """Architecture of the head.

    Attributes
    ----------
    in_channels : int
        1 + context slices + extra maps.
    widths : tuple of int
        Channels per resolution level, full resolution first; ``len(widths) - 1`` halvings.
    """

    in_channels: int = 5
    widths: tuple[int, ...] = (16, 32, 64, 64)

    def __post_init__(self) -> None:
        if self.in_channels < 1 or len(self.widths) < 1 or min(self.widths) < 1:
            raise ValueError("in_channels and widths must be positive")

    @property
    def multiple(self) -> int:
        """Input sides are padded to a multiple of this."""
        return 2 ** (len(self.widths) - 1)


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True),
                         nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True))


class DefectHead(nn.Module):
    """U-Net from ``(n, C, H, W)`` normalised stacks to ``(n, 1, H, W)`` defect logits, any H, W."""

    def __init__(self, config: HeadConfig) -> None:
        super().__init__()
        self.config = config
        w = list(config.widths)
        self.down = nn.ModuleList([_block(config.in_channels, w[0])] +
                                  [_block(w[i - 1], w[i]) for i in range(1, len(w))])
        self.up = nn.ModuleList([_block(w[i + 1] + w[i], w[i]) for i in range(len(w) - 1)])
        self.out = nn.Conv2d(w[0], 1, 1)
        nn.init.constant_(self.out.bias, -math.log((1 - PRIOR) / PRIOR))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        m = self.config.multiple
        ph, pw = -h % m, -w % m
        if ph or pw:  # replicate: reflect fails on inputs smaller than the pad
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        for i in range(len(self.up) - 1, -1, -1):
            x = F.interpolate(x, size=skips[i].shape[-2:], mode="bilinear", align_corners=False)
            x = self.up[i](torch.cat([x, skips[i]], 1))
        return self.out(x)[..., :h, :w]


@dataclass
class HeadModel:
    """A trained head with what it needs to score: window, context offsets, extra inputs.

    Attributes
    ----------
    net : DefectHead
    window : (float, float)
        Raw intensities mapped to [-1, 1] (from the training tiles).
    offsets : tuple of int
        Context offsets along z of channels 1..len(offsets).
    extras : tuple of str
        Names of the extra input maps, in channel order (the caller computes them).
    meta : dict
        Training settings, metrics.
    """

    net: DefectHead
    window: tuple[float, float]
    offsets: tuple[int, ...] = ()
    extras: tuple[str, ...] = ()
    meta: dict = field(default_factory=dict)

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device

    @property
    def stack_channels(self) -> int:
        """Channels of the raw stack: centre + context slices."""
        return 1 + len(self.offsets)

    def normalise(self, stacks: np.ndarray) -> torch.Tensor:
        """Map raw stacks ``(n, C, H, W)`` to float32 in about [-1, 1], with headroom for defects."""
        lo, hi = self.window
        x = torch.as_tensor(np.asarray(stacks, np.float32))
        x = torch.nan_to_num(x, nan=lo, posinf=hi, neginf=lo)
        x = (x - lo) * (2.0 / max(hi - lo, 1e-12)) - 1.0
        return x.clamp_(-1.0 - HEADROOM, 1.0 + HEADROOM)

    def inputs(self, stacks: np.ndarray, extra_fn: ExtraFn | None = None) -> torch.Tensor:
        """Network input ``(n, C + E, H, W)`` from raw stacks ``(n, C, H, W)``."""
        stacks = np.asarray(stacks, np.float32)
        if stacks.ndim != 4 or stacks.shape[1] != self.stack_channels:
            raise ValueError(f"expected stacks (n, {self.stack_channels}, H, W), got {stacks.shape}")
        x = self.normalise(stacks)
        if self.extras:
            if extra_fn is None:
                raise ValueError(f"this head needs extra inputs {self.extras}: pass extra_fn")
            x = torch.cat([x, torch.as_tensor(np.asarray(extra_fn(stacks), np.float32))], 1)
        return x.to(self.device)

    def logits(self, stacks: np.ndarray, extra_fn: ExtraFn | None = None, *, batch_size: int = 64) -> np.ndarray:
        """Defect logits ``(n, H, W)`` of raw stacks ``(n, C, H, W)`` (tiles or whole slices).

        Enters inference mode itself: grad mode is per thread.
        """
        self.net.eval()
        out = []
        with torch.inference_mode():
            for s in range(0, len(stacks), batch_size):
                out.append(self.net(self.inputs(stacks[s:s + batch_size], extra_fn))[:, 0].float().cpu().numpy())
        h, w = np.shape(stacks)[-2:]
        return np.concatenate(out) if out else np.zeros((0, h, w), np.float32)

    def slice_logits(self, stack: np.ndarray, box: tuple[int, int, int, int] | None = None, *,
                     margin: int = 16, extra_fn: ExtraFn | None = None) -> np.ndarray:
        """Logits ``(y, x)`` of one whole slice from its stack ``(C, y, x)``.

        Only ``box`` (y0, x0, y1, x1) grown by ``margin`` pixels of context is
        run; the rest of the map is ``-inf`` (not scored).
        """
        C, H, W = stack.shape
        y0, x0, y1, x1 = box or (0, 0, H, W)
        y0, x0, y1, x1 = max(0, y0 - margin), max(0, x0 - margin), min(H, y1 + margin), min(W, x1 + margin)
        out = np.full((H, W), -np.inf, np.float32)
        if y1 > y0 and x1 > x0:
            out[y0:y1, x0:x1] = self.logits(stack[None, :, y0:y1, x0:x1], extra_fn)[0]
        return out
