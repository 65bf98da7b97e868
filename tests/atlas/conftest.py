from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="module")
def small_atlas():
    """An atlas of four normal parts at slightly different poses and lengths, with noise."""
    from atlas_parts import CENTRE, draw_part

    from ctreview.atlas import AtlasSettings, NormalScan, Pose, build_atlas

    scans = []
    for i, (angle, shift, length) in enumerate([(0.0, (0, 0, 0), 1.0), (8.0, (0, 1.5, -1), 1.03),
                                                 (-6.0, (0.5, -1, 2), 0.97), (4.0, (-0.5, 2, 1), 1.01)]):
        array = draw_part(angle_deg=angle, shift=shift, length=length, seed=i)
        centre = tuple(c + s for c, s in zip(CENTRE, shift))
        scans.append(NormalScan(array, Pose(centre, angle), (5, 14, 6, 19, 42, 50), f"normal {i}"))
    atlas, left_out = build_atlas(scans, (1.0, 1.0, 1.0), AtlasSettings(shrink=(2, 1), smoothing=(1.0, 0.0),
                                                                       sampling=0.2))
    assert left_out == []
    return atlas
