"""Registration: a part turned and moved by a known transform is found again within a voxel."""
from __future__ import annotations

import math

import numpy as np
from atlas_parts import CENTRE, draw_part

from ctreview.atlas import AtlasSettings, Pose, register
from ctreview.atlas.frame import pose_transform, to_image


def _true_point(p_zyx, angle_deg, shift):
    """Where the moving part has the fixed part's point ``p`` (turned about the part centre, then moved)."""
    a = math.radians(angle_deg)
    dz, dy, dx = (p - c for p, c in zip(p_zyx, CENTRE))
    x = math.cos(a) * dx - math.sin(a) * dy
    y = math.sin(a) * dx + math.cos(a) * dy
    return np.array([CENTRE[0] + dz + shift[0], CENTRE[1] + y + shift[1], CENTRE[2] + x + shift[2]])


def test_a_part_turned_and_moved_by_a_known_transform_registers_back_within_a_voxel():
    angle, shift = 17.0, (1.0, 3.0, -2.0)
    fixed = draw_part(seed=1)
    moving = draw_part(angle_deg=angle, shift=shift, seed=2)
    # the ROI's pose is only roughly right: 4 degrees and 1.5 voxels off
    rough = Pose((CENTRE[0] + shift[0], CENTRE[1] + shift[1] + 1.5, CENTRE[2] + shift[2] - 1.0), angle - 4.0)
    start = pose_transform(Pose(CENTRE, 0.0), rough, (1.0, 1.0, 1.0))
    reg = register(to_image(fixed, (1, 1, 1)), to_image(moving, (1, 1, 1)), start,
                   AtlasSettings(shrink=(2, 1), smoothing=(1.0, 0.0), sampling=0.2))
    assert reg.converged, reg.note
    errors = []
    for p in [(z, y, x) for z in (7, 12, 16) for y in (20, 28, 35) for x in (14, 28, 42)]:  # inside the block
        found = np.array(reg.transform.TransformPoint((float(p[2]), float(p[1]), float(p[0]))))[::-1]
        errors.append(np.linalg.norm(found - _true_point(p, angle, shift)))
    assert max(errors) < 1.0, errors


def test_a_registration_that_cannot_run_is_said_not_to_converge():
    fixed = draw_part(seed=1)
    far = Pose((CENTRE[0], CENTRE[1] + 500.0, CENTRE[2]), 0.0)  # the guess puts the part far outside the scan
    start = pose_transform(Pose(CENTRE, 0.0), far, (1.0, 1.0, 1.0))
    reg = register(to_image(fixed, (1, 1, 1)), to_image(draw_part(seed=2), (1, 1, 1)), start, AtlasSettings())
    assert not reg.converged and reg.note
