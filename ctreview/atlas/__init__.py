"""Nominal/actual comparison: normal volumes registered into an atlas (per-voxel mean and spread), and a
scan's residual against it, mapped back into the scan's voxels.

SimpleITK does the registration (rigid, then affine; mean squares on sampled
voxels, coarse to fine, from the part's pose that the ROI step finds). No Qt,
no torch: the scorer family in :mod:`ctreview.model.scorers.atlas_scorer`
wraps it.
"""
from __future__ import annotations

from ctreview.atlas.atlas import Atlas, atlas_from
from ctreview.atlas.build import NormalScan, build_atlas, noise_level
from ctreview.atlas.frame import Pose
from ctreview.atlas.registration import Registration, register
from ctreview.atlas.settings import AtlasSettings

__all__ = ["Atlas", "AtlasSettings", "NormalScan", "Pose", "Registration", "atlas_from", "build_atlas",
           "noise_level", "register"]
