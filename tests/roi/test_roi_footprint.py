"""The ROI follows the part's footprint, so an absence of material is scored like the material around it."""
from __future__ import annotations

import numpy as np

from ctreview.roi import extract_roi
from ctreview.roi.footprint import footprint_planes


def _ball_grid(missing: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """A substrate with a 4 x 4 array of solder balls on it; ``missing`` balls are air.

    Returns the volume (z, y, x) uint16 and a bool mask of the missing balls' voxels.
    """
    rng = np.random.default_rng(0)
    vol = rng.normal(1000, 40, (40, 96, 96))
    vol[4:10, 14:82, 14:82] += 9000                      # substrate
    z, y, x = np.ogrid[:40, :96, :96]
    gone = np.zeros(vol.shape, bool)
    for i in range(4):
        for j in range(4):
            cy, cx = 24 + 16 * i, 24 + 16 * j
            ball = (z - 13) ** 2 / 36 + ((y - cy) ** 2 + (x - cx) ** 2) / 25 <= 1
            if (i, j) in missing:
                gone |= ball
            else:
                vol[ball] += 12000
    return np.clip(vol, 0, 65535).astype(np.uint16), gone


def test_a_missing_ball_inside_or_at_the_rim_of_the_array_is_inside_the_roi():
    vol, gone = _ball_grid(missing=[(1, 2), (3, 0)])       # one inside, one at a corner
    roi = extract_roi(vol, "whole-part", tile_size=16)
    z0, z1 = roi.part_bbox[0], roi.part_bbox[3]  # the balls' last cap voxel lies above the part's extent
    for k in [k for k in np.flatnonzero(gone.any(axis=(1, 2))) if z0 <= k < z1]:
        assert k in roi.slices, f"slice {k} with a missing ball has no ROI"
        mask = roi.slices[k].mask(vol.shape[1:])
        assert mask[gone[k]].all(), f"slice {k}: {np.count_nonzero(gone[k] & ~mask)} absent voxels unscored"
        in_boxes = np.zeros(vol.shape[1:], bool)
        for y0, x0, y1, x1 in roi.slices[k].boxes:
            in_boxes[y0:y1, x0:x1] = True
        assert in_boxes[gone[k]].all(), f"slice {k}: the ROI boxes leave the missing ball out"


def test_the_material_mask_alone_would_miss_it():
    vol, gone = _ball_grid(missing=[(1, 2)])
    roi = extract_roi(vol, "whole-part", tile_size=16)
    k = int(np.flatnonzero(gone.any(axis=(1, 2)))[len(np.flatnonzero(gone.any(axis=(1, 2)))) // 2])
    material = roi.part_mask(k)
    assert not material[gone[k]].any()                      # the ball is air: no material there
    assert roi.slices[k].mask(vol.shape[1:])[gone[k]].all()  # yet the footprint covers it


def test_footprint_keeps_the_parts_extent_along_z():
    mask = np.zeros((10, 20, 20), bool)
    mask[3:7, 5:8, 5:8] = True
    mask[3:7, 12:15, 12:15] = True
    foot = footprint_planes(mask)
    assert not foot[:3].any() and not foot[7:].any()
    assert foot[5, 10, 10]                                 # the gap between the two blocks is covered
    assert (foot | ~mask).all()                             # a superset of the material
