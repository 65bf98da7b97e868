"""Every setting of the atlas (nominal/actual) scorer, declared once (stored whole in ``model.json``)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AtlasSettings:
    """How normal volumes are registered into an atlas and a scan against it.

    Attributes
    ----------
    shrink : tuple of int
        Shrink factor of each resolution level, coarse to fine.
    smoothing : tuple of float
        Gaussian sigma (voxels) of each level.
    sampling : float
        Share of the atlas voxels the metric samples (random, seeded): a tenth
        keeps a 64 x 128 x 128 registration within a few seconds on one core.
    rigid_iterations, affine_iterations : int
        Most optimiser steps per level of the rigid, then the affine stage.
    margin : int
        Voxels of the reference scan kept around its part in the atlas frame.
    spread_sigma : float
        Gaussian sigma (voxels) smoothing the per-voxel standard deviation of
        the registered normal volumes (few volumes make a noisy estimate).
        With ``spread_reach`` 3 and this 0.5 the atlas alone ranked dev slices
        at 0.977 / 0.889 (transformer / capacitor) against 0.965 / 0.831 with
        no reach and 1.5 (bench/results/atlas.md).
    spread_reach : int
        Side (voxels) of the running maximum taken of the standard deviation
        before it is smoothed (1: none), so normal variation is expected a
        little beyond the voxels where the few normal volumes showed it.
    residual_sigma : float
        Gaussian sigma (voxels) of the light smoothing of ``|x - mean| / spread``.
    noise_floor : float
        Multiple of the scans' noise level added to the spread.
    limit_factor : float
        A scan whose mean residual over the part exceeds this multiple of the
        highest held-out normal volume's is warned about (another part, or a failed registration).
    max_scale : float
        An affine that stretches or shrinks any axis beyond this factor did not converge.
    seed : int
        Seed of the metric's sampling (so a registration is repeatable).
    """

    shrink: tuple[int, ...] = (4, 2, 1)
    smoothing: tuple[float, ...] = (2.0, 1.0, 0.0)
    sampling: float = 0.1
    rigid_iterations: int = 60
    affine_iterations: int = 60
    margin: int = 6
    spread_sigma: float = 0.5
    spread_reach: int = 3
    residual_sigma: float = 0.7
    noise_floor: float = 1.0
    limit_factor: float = 2.0
    max_scale: float = 1.5
    seed: int = 0

    def __post_init__(self) -> None:
        from ctreview.errors import CtreviewError

        if not self.shrink or len(self.shrink) != len(self.smoothing) or min(self.shrink) < 1:
            raise CtreviewError(None, "the atlas needs one smoothing sigma per shrink level, each level >= 1")
        if not 0 < self.sampling <= 1:
            raise CtreviewError(None, "the atlas metric's sampling share must be in (0, 1]")
