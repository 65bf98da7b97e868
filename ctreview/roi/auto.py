"""Choosing a profile from the part's shape (``--profile auto``)."""
from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from ctreview.roi.pose import Pose
from ctreview.roi.profiles import Profile, load_profile
from ctreview.roi.segment import Segmentation

HOLE_FRACTION = 0.03
"""A cross-section whose enclosed holes exceed this share of its area has a hole."""


def hole_share(seg: Segmentation) -> float:
    """Median share of enclosed holes in the part's middle slices (a toroid's hole counts)."""
    zs = np.flatnonzero(seg.mask.any(axis=(1, 2)))
    lo, hi = zs[0] + (zs[-1] - zs[0]) // 3, zs[-1] - (zs[-1] - zs[0]) // 6
    shares = []
    for plane in seg.mask[lo:hi + 1]:
        filled = ndi.binary_fill_holes(plane)
        area = filled.sum()
        if area:
            shares.append((area - plane.sum()) / area)
    return float(np.median(shares)) if shares else 0.0


def choose_profile(seg: Segmentation, pose: Pose) -> Profile:
    """Pick ``capacitor`` for a round footprint, ``transformer`` for an oblong part
    whose middle slices have a clear hole (a toroid on a board), else ``whole-part``."""
    if not pose.oriented:  # a round footprint: a can (a wound cell's core hole is fine)
        return load_profile("capacitor")
    if hole_share(seg) > HOLE_FRACTION:
        return load_profile("transformer")
    return load_profile("whole-part")
