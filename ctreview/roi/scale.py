"""The working scale: the voxel size at which a model learns a part and scores it.

A model of normality learns a part at one scale, and a slice costs the
scorers in proportion to its pixels. Training measures the part (its ROI)
and bins every volume so the part's cross-section is at most
a working size (``DetectorSettings.max_side``) across; the model stores that scale (the working
voxel size in the file's units where the scans state one, and the part's
size in working voxels always), and scoring brings every scan to the same
scale with the same rule, so a scan trained on and scored lands on the
same voxels. z is binned like y and x where the voxels are cubes, and
never more unless the scan's slices are finer than its pixels.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ctreview.io import VolumeLike
from ctreview.roi.extract import RoiResult

MIN_FACTOR = 1.5
"""A scan at least this many times finer than the working scale (per axis) is binned (the ratio rounded)."""


def spacing_known(volume: VolumeLike) -> bool:
    """Whether the file stated its voxel spacing (readers note when they fall back to 1.0 mm)."""
    return not any("no voxel spacing" in str(w) for w in getattr(volume, "warnings", ()))


def part_side(roi: RoiResult) -> float:
    """The part's larger side in the slice plane (pixels of its bounding box in y or x)."""
    z0, y0, x0, z1, y1, x1 = (int(v) for v in roi.part_bbox)
    return float(max(y1 - y0, x1 - x0))


def z_factor(bxy: int, spacing: tuple[float, float, float]) -> int:
    """Slices per binned slice for ``bxy`` pixels per side: the voxels keep their shape.

    Cubic voxels bin z like y and x; slices thicker than the pixels bin fewer
    (never below 1), thinner ones more.
    """
    sz, sy, _ = (float(s) for s in spacing)
    return max(1, int(round(bxy * sy / sz))) if sz > 0 and sy > 0 else int(bxy)


def bin_factor(ratio: float) -> int:
    """Pixels (or slices) binned into one for a scan ``ratio`` times finer than the working scale."""
    return max(1, int(round(ratio))) if ratio >= MIN_FACTOR else 1


@dataclass(frozen=True)
class ScaleChoice:
    """How one scan is brought to the working scale.

    Attributes
    ----------
    factors : (int, int)
        ``(bz, bxy)``: slices and pixels per side averaged into one voxel.
    reason : str
        Why, in a few words (what the one-line report says).
    """

    factors: tuple[int, int]
    reason: str

    @property
    def binned(self) -> bool:
        return self.factors != (1, 1)

    def line(self) -> str:
        """One line for the console and the status bar, e.g. ``scale: binned 3x3x3 (...)``."""
        bz, bxy = self.factors
        what = f"binned {bz}x{bxy}x{bxy}" if self.binned else "full resolution"
        return f"scale: {what} ({self.reason})"


@dataclass(frozen=True)
class WorkingScale:
    """The scale a model was trained at (``model.json["scale"]``).

    Attributes
    ----------
    part_side : float
        The training part's larger in-plane side, in working voxels.
    voxel : (float, float, float) or None
        Working voxel size (z, y, x) in the scans' unit, when every training scan stated its spacing.
    max_side : int
        The largest part side training allowed.
    """

    part_side: float
    voxel: tuple[float, float, float] | None
    max_side: int

    def to_json(self) -> dict[str, Any]:
        return {"part_side": round(float(self.part_side), 3),
                "voxel": None if self.voxel is None else [float(v) for v in self.voxel],
                "max_side": int(self.max_side)}

    @classmethod
    def from_json(cls, data: Any) -> WorkingScale | None:
        """The scale of a ``model.json`` block; None for a model without one (or a damaged block)."""
        try:
            voxel: tuple[float, float, float] | None = None
            if data.get("voxel") is not None:
                # (z, y, x): a voxel of another length is a damaged block (ValueError)
                vz, vy, vx = (float(v) for v in data["voxel"])
                voxel = (vz, vy, vx)
            return cls(float(data["part_side"]), voxel, int(data.get("max_side", 0)))
        except (AttributeError, KeyError, TypeError, ValueError):
            return None


def reference_choice(volume: VolumeLike, roi: RoiResult, max_side: int,
                     forced: int | None = None) -> ScaleChoice:
    """The scale training picks from its reference scan: the part at most ``max_side`` pixels across.

    Parameters
    ----------
    volume : VolumeLike, shape (z, y, x)
    roi : RoiResult
        The scan's ROI at full resolution.
    max_side : int
    forced : int, optional
        ``--binning N``: N pixels per side (1: full resolution).
    """
    side = part_side(roi)
    if forced is not None:
        bxy = max(1, int(forced))
        reason = f"--binning {bxy}; part {side:.0f} px across"
    else:
        bxy = max(1, int(math.ceil(side / max(1, int(max_side)))))
        reason = (f"part {side:.0f} px across, above the {max_side} px working size" if bxy > 1
                  else f"part {side:.0f} px across, within the {max_side} px working size")
    return ScaleChoice((z_factor(bxy, volume.spacing), bxy), reason)


def working_scale(volume: VolumeLike, roi: RoiResult, choice: ScaleChoice, max_side: int) -> WorkingScale:
    """The :class:`WorkingScale` a reference scan binned by ``choice`` stands at."""
    bz, bxy = choice.factors
    sz, sy, sx = (float(s) for s in volume.spacing)
    voxel = (sz * bz, sy * bxy, sx * bxy) if spacing_known(volume) else None
    return WorkingScale(part_side(roi) / bxy, voxel, int(max_side))


def choice_for(volume: VolumeLike, roi: RoiResult, scale: WorkingScale, forced: int | None = None) -> ScaleChoice:
    """How a scan is binned to a model's working scale (training's other scans and scoring alike).

    By voxel size where both the model and the scan state one, else by the
    part's size; z keeps the voxels' shape (:func:`z_factor`). A scan at the
    working scale (or coarser) is not binned.
    """
    if forced is not None:
        bxy = max(1, int(forced))
        return ScaleChoice((1 if volume.layout == "images" else z_factor(bxy, volume.spacing), bxy),
                           f"--binning {bxy}")
    if volume.layout == "images":
        return ScaleChoice((1, 1), "independent images are scored at their own size")
    if scale.voxel is not None and spacing_known(volume):
        sz, sy, _ = (float(s) for s in volume.spacing)
        bxy = bin_factor(scale.voxel[1] / sy)
        bz = bin_factor(scale.voxel[0] / sz)
        reason = f"{sy:.4g} mm pixels, the model works at {scale.voxel[1]:.4g} mm"
        return ScaleChoice((bz, bxy), reason)
    side = part_side(roi)
    bxy = bin_factor(side / max(scale.part_side, 1e-9))
    reason = f"part {side:.0f} px across, the model works at {scale.part_side:.0f} px"
    return ScaleChoice((z_factor(bxy, volume.spacing), bxy), reason)
