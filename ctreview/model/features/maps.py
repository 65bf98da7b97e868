"""From patch grids to image pixels and back: ROI masks on the feature grid, map upsampling, smoothing.

Feature cell (i, j) of a stride-s map covers input pixels [s i, s i + s) x
[s j, s j + s) (TensorFlow "SAME" padding and PyTorch's both put the first
window at the top-left), so a grid is brought to pixels by upsampling to
(s h, s w) and cropping, never by stretching it onto the image.

Tensors are ``(n, y, x)`` unless said otherwise.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def scaled_shape(shape: tuple[int, int], scale: float) -> tuple[int, int]:
    """The (y, x) size an image of ``shape`` has after upsampling by ``scale``."""
    return max(1, int(round(shape[0] * scale))), max(1, int(round(shape[1] * scale)))


def grid_mask(masks: torch.Tensor, grid: tuple[int, int], stride: int, scale: float) -> torch.Tensor:
    """Which feature cells overlap the masks.

    Parameters
    ----------
    masks : Tensor of bool, shape (n, y, x)
        Per-image masks in image pixels.
    grid : (h, w)
        Feature grid size of the scaled images.
    stride : int
        Cell size in scaled-image pixels.
    scale : float
        Input upsampling factor used before the backbone.

    Returns
    -------
    Tensor of bool, shape (n, h, w)
    """
    size = scaled_shape(tuple(masks.shape[-2:]), scale)
    m = F.interpolate(masks[:, None].float(), size=size, mode="nearest")
    h, w = grid
    m = F.pad(m, (0, max(0, w * stride - size[1]), 0, max(0, h * stride - size[0])))
    return F.max_pool2d(m[..., :h * stride, :w * stride], stride)[:, 0] > 0


def grid_to_image(values: torch.Tensor, shape: tuple[int, int], stride: int, scale: float) -> torch.Tensor:
    """Bilinearly upsample per-cell values (n, h, w) to image pixels (n, y, x)."""
    h, w = values.shape[-2:]
    up = F.interpolate(values[:, None], size=(h * stride, w * stride), mode="bilinear",
                       align_corners=False)
    size = scaled_shape(shape, scale)
    up = up[..., :size[0], :size[1]]
    if tuple(size) != tuple(shape):
        up = F.interpolate(up, size=tuple(shape), mode="bilinear", align_corners=False)
    return up[:, 0]


def gaussian_smooth(maps: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian smoothing of (n, y, x) maps, edges replicated; sigma in pixels (0: none)."""
    if sigma <= 0:
        return maps
    radius = max(1, int(math.ceil(4 * sigma)))
    t = torch.arange(-radius, radius + 1, dtype=maps.dtype)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    k = k / k.sum()
    x = F.pad(maps[:, None], (radius, radius, radius, radius), mode="replicate")
    x = F.conv2d(x, k.view(1, 1, 1, -1))
    x = F.conv2d(x, k.view(1, 1, -1, 1))
    return x[:, 0]


def masked_max(maps: torch.Tensor, masks: torch.Tensor | None) -> torch.Tensor:
    """Per-image maximum (n,) of maps (n, y, x) inside masks; the whole map where a mask is empty."""
    flat = maps.flatten(1)
    if masks is None:
        return flat.max(1).values
    m = masks.flatten(1)
    inside = torch.where(m, flat, torch.full_like(flat, -torch.inf)).max(1).values
    return torch.where(m.any(1), inside, flat.max(1).values)
