"""What the ROI step finds: the part and the per-slice regions of interest of a volume."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ctreview.results import Box
from ctreview.roi import shapes as sh
from ctreview.roi.profiles import Profile
from ctreview.roi.segment import Segmentation


@dataclass
class SliceRoi:
    """The regions of interest of one slice.

    Attributes
    ----------
    index : int
        Slice index z.
    boxes : list of Box
        ROI boxes (y0, x0, y1, x1), half-open, in slice pixels.
    tiles : list of (int, int)
        Top-left (y, x) of each tile_size x tile_size model tile, inside the slice.
    shapes : list of dict
        The exact region shapes (ring, polygon or mask) behind the boxes.
    """

    index: int
    boxes: list[Box]
    tiles: list[tuple[int, int]]
    shapes: list[dict] = field(default_factory=list, repr=False)

    def mask(self, shape: tuple[int, int]) -> np.ndarray:
        """Return the (y, x) bool ROI mask of this slice for a slice of ``shape``."""
        out = np.zeros(tuple(shape), bool)
        for box, region in zip(self.boxes, self.shapes):
            clipped = sh.intersect(box, (0, 0, shape[0], shape[1]))
            if clipped is not None:
                sh.render(region, clipped, out)
        return out


@dataclass
class RoiResult:
    """The part and the per-slice ROIs of a volume.

    Attributes
    ----------
    part_bbox : tuple of int
        (z0, y0, x0, z1, y1, x1) of the part, half-open, full resolution.
    angle_deg : float
        In-plane direction of the part's major axis, from +x towards +y.
    axes : ndarray, shape (3, 3)
        Principal axes of the part, rows (z, y, x), largest variance first.
    profile : Profile
    tile_size, stride : int
    slices : dict of int -> SliceRoi
        Only slices with a ROI, ascending.
    center : tuple of float
        Part footprint centre (y, x).
    oriented : bool
        False where the footprint is round and ``angle_deg`` means nothing.
    warnings : list of str
        Choices made on odd input (several parts, part at the border).
    segmentation : Segmentation
        The coarse part mask and threshold.
    """

    part_bbox: tuple[int, int, int, int, int, int]
    angle_deg: float
    axes: np.ndarray
    profile: Profile
    tile_size: int
    stride: int
    slices: dict[int, SliceRoi]
    center: tuple[float, float] = (0.0, 0.0)
    oriented: bool = True
    warnings: list[str] = field(default_factory=list)
    segmentation: Segmentation | None = field(default=None, repr=False)

    def part_mask(self, index: int) -> np.ndarray:
        """Return the (y, x) bool part cross-section of slice ``index`` at full resolution."""
        if self.segmentation is None:
            raise ValueError("this ROI was found without a part (whole images): it has no part mask")
        return cross_section(self.segmentation, index)

    def to_json(self) -> dict:
        """Plain JSON-able summary: part_bbox, angle_deg, profile, slices."""
        return {
            "part_bbox": [int(v) for v in self.part_bbox],
            "angle_deg": round(float(self.angle_deg), 3),
            "oriented": self.oriented,
            "profile": self.profile.name,
            "tile_size": self.tile_size,
            "stride": self.stride,
            "warnings": list(self.warnings),
            "slices": [{"index": s.index, "boxes": [[int(v) for v in b] for b in s.boxes],
                        "tiles": len(s.tiles)} for s in self.slices.values()],
        }


def cross_section_crop(seg: Segmentation, index: int,
                   planes: np.ndarray | None = None) -> tuple[Box | None, np.ndarray | None]:
    """Box and full-resolution crop of the part mask of slice ``index``; (None, None) if empty.

    ``planes`` (coarse, like ``seg.mask``) replaces the material mask, e.g. with the footprint.
    """
    f = seg.factor
    plane = (seg.mask if planes is None else planes)[index // f]
    rows, cols = np.flatnonzero(plane.any(axis=1)), np.flatnonzero(plane.any(axis=0))
    if rows.size == 0:
        return None, None
    crop = plane[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    if f > 1:  # upsample only the part's own box: cheap on big slices
        crop = np.repeat(np.repeat(crop, f, axis=0), f, axis=1)
    y0, x0 = int(rows[0]) * f, int(cols[0]) * f
    y1, x1 = min(y0 + crop.shape[0], seg.shape[1]), min(x0 + crop.shape[1], seg.shape[2])
    return (y0, x0, y1, x1), crop[:y1 - y0, :x1 - x0]


def cross_section(seg: Segmentation, index: int) -> np.ndarray:
    """Full-resolution (y, x) part mask of slice ``index``, from the coarse mask."""
    out = np.zeros(seg.shape[1:], bool)
    box, crop = cross_section_crop(seg, index)
    if box is not None:
        out[box[0]:box[2], box[1]:box[3]] = crop
    return out
