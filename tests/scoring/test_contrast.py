"""z-contrast: structure repeated along z cancels, a defect a few slices deep stands out."""
import numpy as np

from ctreview.io import Volume, open_volume
from ctreview.model import load_model
from ctreview.scoring import ScoringSettings, score_volume
from ctreview.scoring.contrast import ContrastWindow, neighbours, z_contrast

GAP, REACH = ScoringSettings().gap, ScoringSettings().reach


def test_neighbours_skip_the_gap_and_missing_slices():
    roi_slices = [0, 1, 2, 3, 4, 5, 6, 7, 8, 20]
    assert neighbours(4, roi_slices, 3, 6) == [0, 1, 7, 8]
    assert neighbours(20, roi_slices, 3, 6) == []


def test_repeated_structure_cancels_and_a_local_spot_stays():
    rng = np.random.default_rng(0)
    structure = np.zeros((32, 32), np.float32)
    structure[8:24, 10:12] = 5.0  # a wire the generator renders badly, in every slice
    others = [structure + rng.normal(0, 0.05, structure.shape).astype(np.float32) for _ in range(6)]
    centre = structure.copy()
    centre[20:23, 20:23] += 3.0  # only here
    mask = np.ones((32, 32), bool)
    mask[:, :4] = False
    out = z_contrast(centre, others, mask)
    assert out[20:23, 20:23].min() > 2.5
    assert out[8:24, 10:12].max() < 0.5
    assert not out[:, :4].any() and out.min() >= 0.0


def test_window_releases_each_slice_once_in_order_and_holds_few_maps():
    roi_slices = list(range(5, 45))
    window = ContrastWindow(roi_slices, GAP, REACH)
    released, held_max = [], 0
    for k in roi_slices:
        window.add(k, np.full((4, 4), float(k), np.float32))
        ready = window.ready()
        for j in ready:  # every later neighbour is in when a slice is released
            assert all(n in window.maps for n in neighbours(j, roi_slices, GAP, REACH))
        released += ready
        window.forget()
        held_max = max(held_max, len(window.maps))
    released += window.ready(final=True)
    assert released == roi_slices
    assert held_max <= 2 * REACH + 2


def test_tiny_model_is_calibrated_for_z_contrast_and_a_planted_spot_stands_out(tiny_model, tiny_data):
    from scipy.ndimage import uniform_filter

    from ctreview.roi import extract_roi

    model = load_model(tiny_model, "cpu")
    assert model.statistic == "z-contrast"
    cal = model.meta["calibration"]["contrast"]
    assert cal["gap"] == GAP and cal["reach"] == REACH and cal["fast"]["threshold"] > 0
    normal = open_volume(tiny_data / "transformer_normal_000.tif").read()
    roi = extract_roi(Volume.from_array(normal), "whole-part", tile_size=model.tile_size)
    ks = [k for k, s in roi.slices.items() if s.tiles]
    k0 = ks[len(ks) // 2]
    y0, x0, y1, x1 = roi.slices[k0].boxes[0]
    inner = uniform_filter(normal[k0, y0 + 4:y1 - 4, x0 + 4:x1 - 4].astype(float), 5)
    iy, ix = np.unravel_index(np.argmax(inner), inner.shape)  # inside the part's material
    cy, cx = y0 + 4 + iy, x0 + 4 + ix
    spotted = normal.copy()
    spotted[k0 - 1:k0 + 2, cy - 2:cy + 3, cx - 2:cx + 3] = normal.max()  # a 5x5x3 dense inclusion

    def scores(volume):
        stream = score_volume(Volume.from_array(volume), model, ScoringSettings(mode="fast"), roi=roi)
        return {r.index: r for r in stream}

    before, after = scores(normal), scores(spotted)
    for k in (k0 - 1, k0, k0 + 1):
        assert after[k].score > 5 * before[k].score
        heat = after[k].heatmap
        py, px = np.unravel_index(np.argmax(heat), heat.shape)
        assert abs(py - cy) <= 4 and abs(px - cx) <= 4
    far = [k for k in ks if abs(k - k0) > REACH + 1]
    assert far and all(after[k].score == before[k].score for k in far)  # local in z
