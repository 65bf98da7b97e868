"""The atlas: a planted defect stands out, the arrays survive the model folder, odd scans are said."""
from __future__ import annotations

import numpy as np
import pytest
from atlas_parts import CENTRE, draw_part
from scipy.ndimage import binary_dilation

from ctreview.atlas import Pose
from ctreview.model.scorers.atlas_scorer import AtlasScorer


def test_a_planted_defect_in_a_registered_copy_scores_above_every_normal_voxel(small_atlas):
    angle, shift = 5.0, (0.0, -1.0, 1.5)
    scan = draw_part(angle_deg=angle, shift=shift, length=1.02, seed=11)
    defect = np.zeros(scan.shape, bool)
    defect[11:14, 24:27, 36:39] = True  # a 3-voxel void inside the block
    scan[defect] = 0.1
    reg = small_atlas.register_scan(scan, Pose(tuple(c + s for c, s in zip(CENTRE, shift)), angle), (1, 1, 1))
    residual, _ = small_atlas.residual(scan, reg, (1, 1, 1))
    assert reg.converged, reg.note
    elsewhere = ~binary_dilation(defect, iterations=2)  # the light smoothing spreads a defect by a voxel or two
    assert residual[defect].max() > residual[elsewhere].max()


def test_the_atlas_round_trips_through_a_model_folder(small_atlas, tmp_path):
    from ctreview.model.detector import Detector, Fusion
    from ctreview.model.store import load_detector, save_detector

    small_atlas.normal_levels = [0.5, 0.6]
    save_detector(Detector({"atlas": AtlasScorer(small_atlas)}, Fusion()), tmp_path / "m", {"name": "atlas"})
    back = load_detector(tmp_path / "m", "cpu").scorers["atlas"].atlas
    for name, array in small_atlas.arrays().items():
        np.testing.assert_array_equal(back.arrays()[name], array)
    assert back.description() == small_atlas.description()
    assert back.pose == small_atlas.pose and back.settings == small_atlas.settings


def test_a_failed_registration_and_a_part_unlike_the_normal_ones_are_said(small_atlas):
    scorer = AtlasScorer(small_atlas)
    small_atlas.normal_levels = [0.5]
    scan = draw_part(seed=3)
    reg = small_atlas.register_scan(scan, Pose(CENTRE, 0.0), (1, 1, 1))
    assert reg.converged and scorer.doubts(reg, 0.6) == []
    lost = small_atlas.register_scan(scan, Pose((CENTRE[0], CENTRE[1] + 500.0, CENTRE[2]), 0.0), (1, 1, 1))
    _, level = small_atlas.residual(scan, lost, (1, 1, 1))
    lines = scorer.doubts(lost, level)
    assert not lost.converged
    assert len(lines) == 2 and "did not register" in lines[0] and "whole part differs" in lines[1]


def test_slices_before_their_volume_are_refused(small_atlas):
    with pytest.raises(RuntimeError, match="prepare"):
        AtlasScorer(small_atlas).maps([])


def test_the_expected_part_lines_up_with_the_scan(small_atlas):
    from ctreview.io import as_volume
    from ctreview.roi import extract_roi
    from ctreview.scoring.inputs import SliceInputs

    volume = as_volume(draw_part(angle_deg=5.0, shift=(0.0, 1.0, -1.0), seed=4))
    roi = extract_roi(volume)  # the pose the registration starts from, as in scoring
    scorer = AtlasScorer(small_atlas)
    scorer.prepare(volume, roi)
    build = SliceInputs(volume, roi, ())
    inputs = [build(k) for k in sorted(roi.slices)]
    scorer.maps(inputs)
    aligned, shifted = [], []
    for inp in inputs:
        expected = scorer.expected(inp.index)
        assert expected is not None and expected.shape == inp.image.shape
        inside = inp.mask
        aligned.append(np.abs(expected - inp.image)[inside].mean())
        shifted.append(np.abs(np.roll(expected, 2, axis=1) - inp.image)[inside].mean())
    assert np.mean(aligned) < 0.05 and np.mean(shifted) > 2 * np.mean(aligned)
    assert scorer.expected(10_000) is None  # a slice the last call did not have
