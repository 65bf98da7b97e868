"""Volumes as SimpleITK images and the part's pose as a first transform.

SimpleITK orders axes (x, y, z); ctreview (z, y, x). This module is the one
place that converts: every other function here takes and returns (z, y, x).
Physical points are voxel index times spacing (origin 0 for a whole scan), so
a crop keeps the physical frame of the scan it was cut from.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk


@dataclass(frozen=True)
class Pose:
    """Where a part lies in a scan: its centre (z, y, x) in voxels and its major axis' direction.

    Attributes
    ----------
    center : (float, float, float)
        Part centre, voxels (z, y, x) of the scan.
    angle_deg : float
        Major axis in the slice plane, degrees from +x towards +y (the ROI's ``angle_deg``).
    """

    center: tuple[float, float, float]
    angle_deg: float

    @classmethod
    def of_roi(cls, roi: object) -> Pose:
        """The pose the ROI step found (:class:`~ctreview.roi.RoiResult`): footprint centre, bbox middle in z."""
        box = roi.part_bbox  # type: ignore[attr-defined]
        cy, cx = roi.center  # type: ignore[attr-defined]
        return cls(((box[0] + box[3] - 1) / 2.0, float(cy), float(cx)), float(roi.angle_deg))  # type: ignore[attr-defined]


def to_image(array: np.ndarray, spacing: Sequence[float], offset: Sequence[int] = (0, 0, 0)) -> sitk.Image:
    """A float32 SimpleITK image of a ``(z, y, x)`` array whose voxel 0 sits at index ``offset`` of its scan."""
    image = sitk.GetImageFromArray(np.ascontiguousarray(array, np.float32))
    sp = [float(s) for s in spacing]
    image.SetSpacing(sp[::-1])
    image.SetOrigin([float(o) * s for o, s in zip(offset, sp)][::-1])
    return image


def to_array(image: sitk.Image) -> np.ndarray:
    """The ``(z, y, x)`` float32 array of an image."""
    return np.asarray(sitk.GetArrayFromImage(image), np.float32)


def physical(point_zyx: Sequence[float], spacing: Sequence[float]) -> tuple[float, float, float]:
    """A voxel position (z, y, x) as a SimpleITK physical point (x, y, z)."""
    z, y, x = (float(p) * float(s) for p, s in zip(point_zyx, spacing))
    return (x, y, z)


def pose_transform(fixed: Pose, moving: Pose, spacing: Sequence[float], *, flip: bool = False) -> sitk.Euler3DTransform:
    """The rigid transform taking the fixed part's points onto the moving part's (fixed -> moving).

    It turns by the difference of the two major axes about the fixed centre and
    moves that centre onto the moving one; ``flip`` adds half a turn (a major
    axis has no sign, so both ways are candidates).
    """
    turn = math.radians(moving.angle_deg - fixed.angle_deg + (180.0 if flip else 0.0))
    tx = sitk.Euler3DTransform()
    c_f, c_m = physical(fixed.center, spacing), physical(moving.center, spacing)
    tx.SetCenter(c_f)
    tx.SetRotation(0.0, 0.0, turn)  # about z, from +x towards +y
    tx.SetTranslation([m - f for m, f in zip(c_m, c_f)])
    return tx


def affine_of(transform: sitk.Transform) -> sitk.AffineTransform:
    """An affine copy of a rigid (Euler) or affine transform, to refine further."""
    if transform.GetName() == "AffineTransform":
        return sitk.AffineTransform(transform)
    euler = sitk.Euler3DTransform(transform)
    out = sitk.AffineTransform(3)
    out.SetCenter(euler.GetCenter())
    out.SetMatrix(euler.GetMatrix())
    out.SetTranslation(euler.GetTranslation())
    return out


def resample(image: sitk.Image, grid: sitk.Image, transform: sitk.Transform, *, default: float = 0.0,
             order: int = 1) -> np.ndarray:
    """``image`` sampled on ``grid``'s voxels; ``transform`` maps grid points to ``image`` points. (z, y, x)."""
    interp = sitk.sitkLinear if order == 1 else sitk.sitkNearestNeighbor
    return to_array(sitk.Resample(image, grid, transform, interp, float(default), sitk.sitkFloat32))
