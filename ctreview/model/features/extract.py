"""Settings of a deep-feature model and the patch features it is built on.

A patch feature (PatchCore, Roth et al. 2022) is the backbone's response at
one cell of its finest tapped grid (stride 8): each tapped map is averaged
over a 3x3 neighbourhood (local context without losing resolution),
upsampled to the finest grid and concatenated. An image with several
channels is several views of one place (e.g. a CT slice and its
neighbours along z): each view goes through the backbone on its own and
their features are joined.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ctreview.errors import CtreviewError
from ctreview.model.features.coreset import random_projection
from ctreview.model.features.maps import gaussian_smooth, scaled_shape
from ctreview.model.nets.backbone import BACKBONES, Backbone, load_backbone

METHODS = ("patchcore", "padim")
CORESETS = ("greedy", "random", "none")
REDUCTIONS = ("project", "pool")
VIEWS = ("concat", "contrast")


@dataclass(frozen=True)
class FeatureSettings:
    """Everything that defines a deep-feature model of normality (JSON-able).

    The defaults are what measured best on CT slices of unseen phantoms
    (bench/results/features.md): PatchCore on Lite0's stride-8 block of
    slices denoised with sigma 1 px and upsampled 2x, a greedy 10 % coreset.
    PatchCore as published is ``taps=("_blocks.4", "_blocks.10"), presmooth=0, scale=1``.

    Attributes
    ----------
    method : {"patchcore", "padim"}
        Nearest neighbour in a position-free memory bank, or a Gaussian per
        grid position (only for aligned images of one size).
    backbone, weights, taps
        See :func:`~ctreview.model.backbone.load_backbone`; ``taps=None``: the backbone's.
    presmooth : float
        Gaussian sigma (image pixels) applied to each image before the backbone (0: none):
        CT photon noise moves ImageNet features about as much as a small defect does.
    scale : float
        Upsample images by this before the backbone (2: stride-8 cells cover 4 pixels).
    pool : int
        Local aggregation window of each tapped map (odd; 1 = none).
    reduce : int or None
        Channels per view after reduction (None: keep all).
    reduce_method : {"project", "pool"}
        A fixed seeded random projection, or adaptive average pooling over channels.
    views : {"concat", "contrast"}
        Multi-channel images: concatenate the views' features, or keep view 0's
        and its difference from the mean of the others.
    rotations : tuple of float
        Extra angles (degrees, from +x towards +y) at which every normal image is
        also added to the model, turned about its centre: features are not rotation
        invariant, and parts lie in any in-plane pose.
    coreset : {"greedy", "random", "none"}
    coreset_ratio : float
        Fraction of the normal patches kept in the memory bank.
    coreset_dims : int
        Projection size for the greedy selection.
    max_patches : int
        PatchCore: at most this many normal patches are kept for the coreset
        selection, a uniform sample of all of them beyond (reservoir sampling
        as the images stream by). The greedy selection costs patches x kept,
        so this bounds its time and memory: beyond it training grows only
        linearly with the data (the dev phantoms stay under it).
    position_window : float or None
        If set, each image has a position (e.g. height along the part) and is
        compared only with bank patches of images within this distance.
    sigma : float
        Gaussian smoothing of the anomaly map, in image pixels.
    ridge : float
        PaDiM: added to the covariance diagonal.
    seed : int
    batch : int
        Images per backbone pass.
    """

    method: str = "patchcore"
    backbone: str = "efficientnet-lite0"
    weights: str | None = None
    taps: tuple[str, ...] | None = None
    presmooth: float = 1.0
    scale: float = 2.0
    pool: int = 3
    reduce: int | None = None
    reduce_method: str = "project"
    views: str = "concat"
    rotations: tuple[float, ...] = ()
    coreset: str = "greedy"
    coreset_ratio: float = 0.1
    coreset_dims: int = 128
    max_patches: int = 400_000
    position_window: float | None = None
    sigma: float = 4.0
    ridge: float = 0.01
    seed: int = 0
    batch: int = 16

    def __post_init__(self) -> None:
        for name, value, allowed in (("method", self.method, METHODS), ("coreset", self.coreset, CORESETS),
                                     ("reduce_method", self.reduce_method, REDUCTIONS),
                                     ("views", self.views, VIEWS)):
            if value not in allowed:
                raise CtreviewError(None, f"feature model {name} must be one of {', '.join(allowed)}, not {value!r}")
        if not 0 < self.coreset_ratio <= 1 or self.scale <= 0 or self.pool < 1 or self.pool % 2 == 0 \
                or self.max_patches < 1:
            raise CtreviewError(None, "feature model needs 0 < coreset_ratio <= 1, scale > 0, an odd pool "
                                      "and max_patches >= 1")
        if self.taps is not None:
            object.__setattr__(self, "taps", tuple(self.taps))
        object.__setattr__(self, "rotations", tuple(float(a) for a in self.rotations))

    def to_json(self) -> dict:
        """A plain dict (lists for tuples)."""
        out = dataclasses.asdict(self)
        out["taps"] = None if self.taps is None else list(self.taps)
        out["rotations"] = list(self.rotations)
        return out

    @classmethod
    def from_json(cls, data: dict) -> FeatureSettings:
        """Inverse of :meth:`to_json`; unknown keys are a user error."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise CtreviewError(None, f"unknown feature model settings: {', '.join(unknown)}")
        return cls(**data)


class PatchFeatures:
    """Turns batches of grey images (n, c, y, x) in [0, 1] into patch features (n, d, h, w).

    Attributes
    ----------
    backbone : Backbone
    stride : int
        Cell size of the feature grid in pixels of the scaled image.
    dim : int
        Feature size d.
    """

    def __init__(self, settings: FeatureSettings, backbone: Backbone | None = None) -> None:
        self.settings = settings
        self.backbone = backbone or load_backbone(settings.backbone, weights=settings.weights,
                                                  taps=settings.taps)
        wanted = settings.taps or BACKBONES[settings.backbone].taps
        if self.backbone.name != settings.backbone or set(self.backbone.taps) != set(wanted):
            raise CtreviewError(None, f"the backbone given ({self.backbone.name}, taps {self.backbone.taps}) "
                                      f"is not the one the settings name ({settings.backbone}, taps {tuple(wanted)})")
        self.stride = self.backbone.strides[self.backbone.taps[0]]
        self.raw_dim = sum(self.backbone.channels.values())
        self.view_dim = min(settings.reduce or self.raw_dim, self.raw_dim)
        self.projection = None
        if self.view_dim < self.raw_dim and settings.reduce_method == "project":
            self.projection = random_projection(self.raw_dim, self.view_dim, settings.seed)

    def dim(self, views: int) -> int:
        """Feature size for images of ``views`` channels."""
        return self.view_dim * (views if self.settings.views == "concat" or views == 1 else 2)

    def grid(self, shape: tuple[int, int]) -> tuple[int, int]:
        """Feature grid (h, w) of an image of ``shape`` (y, x)."""
        y, x = scaled_shape(shape, self.settings.scale)
        return -(-y // self.stride), -(-x // self.stride)

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """Patch features, shape (n, dim(c), h, w), of images (n, c, y, x) in [0, 1]."""
        feats = [self._one_view(images[:, i:i + 1]) for i in range(images.shape[1])]
        if len(feats) > 1 and self.settings.views == "contrast":
            feats = [feats[0], feats[0] - torch.stack(feats[1:]).mean(0)]
        return torch.cat(feats, 1)

    def _one_view(self, x: torch.Tensor) -> torch.Tensor:
        s = self.settings
        if s.presmooth > 0:
            x = gaussian_smooth(x[:, 0], s.presmooth)[:, None]
        if s.scale != 1:
            x = F.interpolate(x, size=scaled_shape(tuple(x.shape[-2:]), s.scale), mode="bilinear",
                              align_corners=False)
        maps = self.backbone(x)
        finest = maps[self.backbone.taps[0]].shape[-2:]
        parts = []
        for tap in self.backbone.taps:
            m = maps[tap]
            if s.pool > 1:
                m = F.avg_pool2d(m, s.pool, 1, s.pool // 2, count_include_pad=False)
            if m.shape[-2:] != finest:
                # a coarse cell spans `ratio` fine cells: upsample by whole cells, then crop
                ratio = self.backbone.strides[tap] // self.stride
                m = F.interpolate(m, scale_factor=ratio, mode="bilinear", align_corners=False)
                m = m[..., :finest[0], :finest[1]]
            parts.append(m)
        f = torch.cat(parts, 1)
        if self.projection is not None:
            f = torch.einsum("nchw,cd->ndhw", f, self.projection)
        elif self.view_dim < self.raw_dim:
            n, c, h, w = f.shape
            f = F.adaptive_avg_pool1d(f.permute(0, 2, 3, 1).reshape(-1, 1, c), self.view_dim)
            f = f.reshape(n, h, w, -1).permute(0, 3, 1, 2)
        return f.contiguous()
