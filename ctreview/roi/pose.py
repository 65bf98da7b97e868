"""Pose of a segmented part: bounding box, principal axes, in-plane angle."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from skimage.transform import rotate

from ctreview.roi.result import RoiResult
from ctreview.roi.segment import Segmentation

ORIENTED_RATIO = 1.2
"""Footprint variance ratio above which the part has a defined in-plane orientation."""


@dataclass
class Pose:
    """Where the part lies, in full-resolution voxels.

    Attributes
    ----------
    bbox : tuple of int
        (z0, y0, x0, z1, y1, x1), half-open.
    center : tuple of float
        Centre (y, x) of the part's footprint (its projection along z).
    angle_deg : float
        Direction of the footprint's major axis, from +x towards +y, in [-90, 90).
    oriented : bool
        False for round footprints, whose angle means nothing.
    half_extent : tuple of float
        Half-extents (u, v) of the footprint along its major and minor axes.
    axes : ndarray, shape (3, 3)
        Principal axes of the part's voxels, rows (z, y, x) unit vectors,
        largest variance first.
    """

    bbox: tuple[int, int, int, int, int, int]
    center: tuple[float, float]
    angle_deg: float
    oriented: bool
    half_extent: tuple[float, float]
    axes: np.ndarray


def _full(index: np.ndarray, factor: int) -> np.ndarray:
    """Full-resolution coordinate of coarse voxel centres."""
    return (index + 0.5) * factor - 0.5


def part_pose(seg: Segmentation) -> Pose:
    """Measure the pose of a segmented part.

    Parameters
    ----------
    seg : Segmentation

    Returns
    -------
    Pose
    """
    f, mask = seg.factor, seg.mask
    lo = [int(np.flatnonzero(mask.any(axis=tuple(j for j in range(3) if j != i)))[0]) for i in range(3)]
    hi = [int(np.flatnonzero(mask.any(axis=tuple(j for j in range(3) if j != i)))[-1]) + 1 for i in range(3)]
    top = [min(hi[i] * f, seg.shape[i]) for i in range(3)]
    bbox = (lo[0] * f, lo[1] * f, lo[2] * f, top[0], top[1], top[2])
    ys, xs = np.nonzero(mask.any(axis=0))
    y, x = _full(ys, f), _full(xs, f)
    cy, cx = float(y.mean()), float(x.mean())
    evals, evecs = np.linalg.eigh(np.cov(np.stack([x - cx, y - cy])) + 1e-9 * np.eye(2))
    major = evecs[:, 1]
    angle = float(np.degrees(np.arctan2(major[1], major[0])))
    angle = (angle + 90.0) % 180.0 - 90.0
    a = np.radians(angle)
    u = (x - cx) * np.cos(a) + (y - cy) * np.sin(a)
    v = -(x - cx) * np.sin(a) + (y - cy) * np.cos(a)
    half = (float(np.abs(u).max() + f / 2), float(np.abs(v).max() + f / 2))
    return Pose(bbox=bbox, center=(cy, cx), angle_deg=round(angle, 3),
                oriented=bool(evals[1] > ORIENTED_RATIO * max(evals[0], 1e-9)),
                half_extent=half, axes=_axes(mask, f))


def _axes(mask: np.ndarray, factor: int) -> np.ndarray:
    coords = np.argwhere(mask)
    if len(coords) > 200_000:
        coords = coords[:: len(coords) // 200_000]
    coords = _full(coords.astype(float), factor)
    if len(coords) < 2:
        return np.eye(3)
    evals, evecs = np.linalg.eigh(np.cov(coords.T) + 1e-9 * np.eye(3))
    return evecs[:, ::-1].T.copy()


def align_slice(image: np.ndarray, roi: RoiResult, *, cval: float | None = None) -> np.ndarray:
    """Resample a slice into the part-aligned frame.

    The slice is turned about the part's centre so that the part's major axis
    lies along +x; every instance then looks the same to the model.

    Parameters
    ----------
    image : ndarray, shape (y, x)
    roi : RoiResult or Pose
        Gives ``center`` (y, x) and ``angle_deg``.
    cval : float, optional
        Fill value outside the slice; default the image minimum.

    Returns
    -------
    ndarray, shape (y, x), image's dtype
    """
    center = roi.center
    fill = float(image.min()) if cval is None else float(cval)
    # skimage turns counter-clockwise as displayed (y down): that undoes an
    # angle measured from +x towards +y
    out = rotate(image.astype(np.float32), roi.angle_deg, center=(center[1], center[0]),
                 order=1, mode="constant", cval=fill, preserve_range=True)
    if np.issubdtype(image.dtype, np.integer):
        info = np.iinfo(image.dtype)
        out = np.clip(np.round(out), info.min, info.max)
    return out.astype(image.dtype)
