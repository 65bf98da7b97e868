"""Heatmap -> defects: hysteresis objects with their boxes, mm values, and slab-wise = one pass."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage

from ctreview.defects import DefectSettings, DefectTracker, SliceStack, find_defects
from ctreview.errors import CtreviewError


def _noise_field(shape, seed=0, sigma=1.5):
    """A smooth seeded field with many separate blobs above 0.5 and some above 1."""
    rng = np.random.default_rng(seed)
    field = ndimage.gaussian_filter(rng.random(shape), sigma)
    return ((field - field.mean()) / field.std() * 0.5).astype(np.float32)


def _same(a, b):
    assert [(d.id, d.rank, d.box, d.voxels, d.peak_slice, d.peak_y, d.peak_x) for d in a] == \
           [(d.id, d.rank, d.box, d.voxels, d.peak_slice, d.peak_y, d.peak_x) for d in b]
    for x, y in zip(a, b):
        assert (x.centroid_z, x.centroid_y, x.centroid_x, x.mean) == pytest.approx(
            (y.centroid_z, y.centroid_y, y.centroid_x, y.mean), rel=1e-9)


def test_a_phantom_with_two_planted_defects_gives_two_objects_with_their_boxes():
    from ctreview.phantom import make_phantom

    phantom = make_phantom("capacitor", size=64, slices=24, defective=True, seed=5)
    mask = phantom.defect_mask
    assert mask.max() == 2  # two voids planted
    rng = np.random.default_rng(1)
    heat = rng.uniform(0.0, 0.45, mask.shape).astype(np.float32)  # noise below the grow level
    heat[mask > 0] = 1.6
    defects = find_defects(heat, phantom.spacing)
    assert len(defects) == 2
    boxes = []
    for k in (1, 2):
        z, y, x = np.nonzero(mask == k)
        boxes.append((z.min(), z.max() + 1, y.min(), y.max() + 1, x.min(), x.max() + 1))
    assert sorted(d.box for d in defects) == sorted(boxes)
    for d in defects:
        k = int(mask[d.peak_slice, d.peak_y, d.peak_x])
        assert d.voxels == int((mask == k).sum())
        assert d.peak == pytest.approx(1.6) and d.z0 <= d.peak_slice < d.z1
        assert d.centroid_z == pytest.approx(np.nonzero(mask == k)[0].mean())
    assert sorted(d.id for d in defects) == [1, 2] and sorted(d.rank for d in defects) == [1, 2]


def test_anisotropic_spacing_gives_the_right_mm_values():
    heat = np.zeros((20, 30, 40), np.float32)
    heat[4:8, 10:13, 20:22] = 2.0  # 4 x 3 x 2 = 24 voxels
    spacing, origin = (0.5, 0.1, 0.2), (10.0, -1.0, 0.0)
    (d,) = find_defects(heat, spacing, origin=origin)
    assert d.box == (4, 8, 10, 13, 20, 22) and d.voxels == 24
    assert (d.centroid_z, d.centroid_y, d.centroid_x) == pytest.approx((5.5, 11.0, 20.5))
    assert (d.centroid_z_mm, d.centroid_y_mm, d.centroid_x_mm) == pytest.approx(
        (10.0 + 5.5 * 0.5, -1.0 + 11.0 * 0.1, 20.5 * 0.2))
    assert d.volume_mm3 == pytest.approx(24 * 0.5 * 0.1 * 0.2)
    assert d.diameter_mm == pytest.approx((6 * d.volume_mm3 / math.pi) ** (1 / 3))
    assert d.peak == d.mean == pytest.approx(2.0) and d.peak_slice == 4


def test_hysteresis_grows_from_seeds_and_drops_weak_and_small_objects():
    heat = np.zeros((10, 40, 40), np.float32)
    heat[2:6, 5:15, 5:15] = 0.6        # grown region ...
    heat[3, 8, 8] = 1.2                # ... around one seed: one object of 400 voxels
    heat[2:6, 25:35, 25:35] = 0.9      # strong but never at the threshold: no defect
    heat[8, 30:32, 5:7] = 1.5          # a seed of 4 voxels: below the minimum size
    heat[1, 20, 20] = 1.0              # touches nothing: a single voxel
    defects = find_defects(heat, settings=DefectSettings(min_voxels=5))
    assert [(d.box, d.voxels) for d in defects] == [((2, 6, 5, 15, 5, 15), 400)]
    assert defects[0].peak == pytest.approx(1.2) and (defects[0].peak_slice, defects[0].peak_y) == (3, 8)
    every = find_defects(heat, settings=DefectSettings(min_voxels=1))
    assert len(every) == 3 and [d.rank for d in every] == [1, 2, 3]
    assert every[0].peak == pytest.approx(1.5)  # worst first
    assert [d.id for d in sorted(every, key=lambda d: d.id)] == [1, 2, 3]
    assert sorted(every, key=lambda d: d.id)[0].z0 == 1  # ids follow z


def test_diagonal_neighbours_join_one_object_across_slices():
    heat = np.zeros((6, 10, 10), np.float32)
    for k in range(6):  # a staircase touching only corner to corner
        heat[k, k + 1, k + 2] = 1.5
    (d,) = find_defects(heat, settings=DefectSettings(min_voxels=6), slab=2)
    assert d.voxels == 6 and d.box == (0, 6, 1, 7, 2, 8)


@pytest.mark.parametrize("slab", [1, 2, 3, 7, 16])
def test_slab_wise_labelling_equals_one_pass(slab):
    heat = _noise_field((48, 40, 36))
    settings = DefectSettings(min_voxels=2)
    whole = find_defects(heat, (0.3, 0.1, 0.1), settings, slab=heat.shape[0])
    assert len(whole) > 10 and any(d.z1 - d.z0 > slab for d in whole)  # objects cross slab borders
    _same(find_defects(heat, (0.3, 0.1, 0.1), settings, slab=slab), whole)


def test_the_streaming_tracker_and_a_slice_stack_agree_with_one_pass():
    heat = _noise_field((30, 32, 32), seed=4)
    settings = DefectSettings(min_voxels=3)
    whole = find_defects(heat, (0.2, 0.1, 0.1), settings)
    tracker = DefectTracker(heat.shape, (0.2, 0.1, 0.1), settings)
    order = np.random.default_rng(0).permutation(30)
    for k in order[:15]:
        tracker.add(int(k), heat[k] + 5.0)  # superseded below, as a refined result does
    half = tracker.defects()
    assert half and all(set(range(d.z0, d.z1)) <= set(int(k) for k in order[:15]) for d in half)
    for k in order:
        tracker.add(int(k), heat[k])
    _same(tracker.defects(), whole)
    stack = SliceStack(lambda k: heat[k], heat.shape)
    _same(find_defects(stack, (0.2, 0.1, 0.1), settings, slab=4), whole)


def test_a_tracker_past_its_budget_stops_keeping_voxels():
    tracker = DefectTracker((4, 50, 50), budget_bytes=1000)
    tracker.add(0, np.full((50, 50), 2.0, np.float32))
    assert tracker.overflow and tracker.defects() == []


def test_nan_and_empty_heatmaps_give_no_defects():
    heat = np.full((5, 8, 8), np.nan, np.float32)
    assert find_defects(heat) == []
    assert find_defects(np.zeros((0, 8, 8), np.float32)) == []


def test_settings_are_checked():
    with pytest.raises(CtreviewError, match="grow"):
        DefectSettings(seed=0.5, grow=0.8)
    with pytest.raises(CtreviewError, match="min_voxels"):
        DefectSettings(min_voxels=0)
    with pytest.raises(CtreviewError, match="seed"):
        DefectSettings(seed=float("nan"))
    assert DefectSettings.from_dict({**DefectSettings().to_dict(), "other": 1}) == DefectSettings()
