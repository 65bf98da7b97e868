"""Build an atlas from normal volumes: each registered to a reference, then all to their mean."""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk
from scipy.ndimage import gaussian_filter, maximum_filter

from ctreview.atlas.atlas import Atlas
from ctreview.atlas.frame import Pose, pose_transform, resample, to_image
from ctreview.atlas.registration import register, start_metric
from ctreview.atlas.settings import AtlasSettings

log = logging.getLogger(__name__)


@dataclass
class NormalScan:
    """One normal volume at the working scale.

    Attributes
    ----------
    array : ndarray of float32, shape (z, y, x)
    pose : Pose
        The part's pose (from its ROI).
    part_bbox : (z0, y0, x0, z1, y1, x1)
        The part's box, half-open.
    source : str
        Where it came from (for warnings).
    """

    array: np.ndarray
    pose: Pose
    part_bbox: tuple[int, int, int, int, int, int]
    source: str = ""


def noise_level(array: np.ndarray, box: Sequence[int]) -> float:
    """Standard deviation of the noise inside ``box``, from the median absolute difference of neighbouring slices."""
    z0, y0, x0, z1, y1, x1 = (int(v) for v in box)
    part = np.asarray(array[z0:z1, y0:y1, x0:x1], np.float32)
    if part.shape[0] < 2:
        part = np.asarray(array, np.float32)
    d = np.diff(part, axis=0 if part.shape[0] >= 2 else 1).ravel()
    return float(1.4826 * np.median(np.abs(d - np.median(d))) / np.sqrt(2.0))


def _crop(scan: NormalScan, margin: int) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    shape = scan.array.shape
    lo = tuple(max(0, int(scan.part_bbox[i]) - margin) for i in range(3))
    hi = tuple(min(int(shape[i]), int(scan.part_bbox[3 + i]) + margin) for i in range(3))
    return lo, hi  # type: ignore[return-value]


def _warp(fixed: sitk.Image, scan: NormalScan, start: sitk.Transform, unit: tuple[float, ...],
          s: AtlasSettings) -> tuple[np.ndarray | None, sitk.Transform, str]:
    """One scan registered and resampled on ``fixed``'s grid (NaN where it does not reach); None when it failed."""
    moving = to_image(scan.array, unit)
    reg = register(fixed, moving, start, s)
    if not reg.converged:
        return None, reg.transform, f"{scan.source or 'a normal volume'}: left out of the atlas, {reg.note}"
    return resample(moving, fixed, reg.transform, default=float("nan")), reg.transform, ""


def build_atlas(scans: Sequence[NormalScan], spacing: Sequence[float],
                settings: AtlasSettings | None = None) -> tuple[Atlas, list[str]]:
    """Register ``scans`` (the first is the reference) into an atlas; return it and one line per scan left out.

    Raises
    ------
    ValueError
        Fewer than two scans, or fewer than two that registered.
    """
    s = settings or AtlasSettings()
    if len(scans) < 2:
        raise ValueError("an atlas needs at least two normal volumes")
    ref = scans[0]
    base = min(float(v) for v in spacing)
    unit = tuple(float(v) / base for v in spacing)
    lo, hi = _crop(ref, s.margin)
    fixed = to_image(ref.array[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]], unit, lo)
    starts = []
    for scan in scans:  # each part's own pose, whichever way round its axis lies fits the reference better
        moving = to_image(scan.array, unit)
        guesses = [pose_transform(ref.pose, scan.pose, unit, flip=f) for f in (False, True)]
        starts.append(min(guesses, key=lambda t: start_metric(fixed, moving, t, s)))
    warnings: list[str] = []
    for _round in range(2):  # to the reference, then to the mean of the first round
        warped, notes, transforms = [], [], []
        for scan, start in zip(scans, starts):
            array, transform, note = _warp(fixed, scan, start, unit, s)
            transforms.append(transform)
            if array is None:
                notes.append(note)
            else:
                warped.append(array)
        if len(warped) < 2:
            raise ValueError("fewer than two normal volumes registered onto each other: " + "; ".join(notes))
        stack = np.stack(warped)
        covered = ~np.isnan(stack).any(0)
        stack = np.where(covered, stack, 0.0)  # voxels some volume does not reach are left out of the atlas
        mean = stack.mean(0).astype(np.float32)
        fixed, starts, warnings = to_image(mean, unit, lo), transforms, notes
    std = stack.std(0, ddof=1).astype(np.float32)
    noise = float(np.median([noise_level(scan.array, scan.part_bbox) for scan in scans]))
    if s.spread_reach > 1:  # an edge that wanders a voxel between parts varies beside where it was seen to
        std = maximum_filter(std, size=int(s.spread_reach))
    spread = (gaussian_filter(std, s.spread_sigma) + s.noise_floor * max(noise, 1e-6)).astype(np.float32)
    for line in warnings:
        log.warning("atlas: %s", line)
    return Atlas(mean, spread, covered, lo, tuple(float(v) for v in spacing), ref.pose, noise,  # type: ignore[arg-type]
                 settings=s), warnings
