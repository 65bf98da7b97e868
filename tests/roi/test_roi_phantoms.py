"""ROI extraction on simulated parts in random poses, checked against ground truth."""
import numpy as np
import pytest

from ctreview.phantom import make_phantom
from ctreview.roi import align_slice, cut_tiles, extract_roi

CASES = [("transformer", 21), ("transformer", 22), ("capacitor", 23), ("capacitor", 24)]


def bbox_of(mask):
    lo, hi = [], []
    for axis in range(3):
        hit = np.flatnonzero(mask.any(axis=tuple(a for a in range(3) if a != axis)))
        lo.append(hit[0])
        hi.append(hit[-1] + 1)
    return lo + hi


def iou(a, b):
    inter = np.prod([max(0, min(a[i + 3], b[i + 3]) - max(a[i], b[i])) for i in range(3)])
    vol = lambda box: np.prod([box[i + 3] - box[i] for i in range(3)])  # noqa: E731
    return inter / (vol(a) + vol(b) - inter)


@pytest.fixture(scope="module", params=CASES, ids=[f"{p}-{s}" for p, s in CASES])
def case(request):
    part, seed = request.param
    ph = make_phantom(part, size=96, slices=40, defective=True, seed=seed)
    return ph, extract_roi(ph.volume, "auto")


def test_part_bbox_matches_ground_truth(case):
    ph, roi = case
    assert iou(roi.part_bbox, bbox_of(ph.part_mask)) >= 0.95


def test_profile_auto_picks_the_part(case):
    ph, roi = case
    assert roi.profile.name == ph.part


def test_angle_of_oriented_parts(case):
    ph, roi = case
    if ph.part == "transformer":
        assert roi.oriented
        error = (roi.angle_deg - ph.angle_deg + 90) % 180 - 90
        assert abs(error) <= 2.0
    else:
        assert not roi.oriented  # a round can has no in-plane orientation


def test_no_roi_on_air_slices(case):
    ph, roi = case
    for k in roi.slices:
        assert ph.part_mask[k].any(), f"slice {k} holds no part but has a ROI"
    air = [k for k in range(ph.volume.shape[0]) if not ph.part_mask[k].any()]
    assert air, "the phantom should have air-only slices above the part"


def test_every_defect_inside_a_tile(case):
    ph, roi = case
    T = roi.tile_size
    for z, y, x in np.argwhere(ph.defect_mask > 0):
        tiles = roi.slices[z].tiles
        assert any(ty <= y < ty + T and tx <= x < tx + T for ty, tx in tiles), (z, y, x)


def test_tiles_inside_slice_and_cut_at_native_size(case):
    ph, roi = case
    for k, sl in roi.slices.items():
        assert sl.tiles and sl.boxes
        for y, x in sl.tiles:
            assert 0 <= y <= 96 - roi.tile_size and 0 <= x <= 96 - roi.tile_size
        tiles = cut_tiles(ph.volume[k], sl.tiles, roi.tile_size)
        assert tiles.shape == (len(sl.tiles), roi.tile_size, roi.tile_size)
        assert tiles.dtype == np.uint16


def test_roi_mask_holds_the_part(case):
    ph, roi = case
    z = (roi.part_bbox[0] + roi.part_bbox[3]) // 2
    mask = roi.slices[z].mask((96, 96))
    assert mask.dtype == bool and mask.shape == (96, 96)
    part = ph.part_mask[z]
    assert (mask & part).sum() >= 0.8 * part.sum()
    assert mask.sum() < 0.8 * mask.size


def test_json_summary(case):
    ph, roi = case
    data = roi.to_json()
    assert data["part_bbox"] == list(roi.part_bbox) and data["profile"] == roi.profile.name
    assert [s["index"] for s in data["slices"]] == sorted(roi.slices)
    assert all(s["tiles"] == len(roi.slices[s["index"]].tiles) for s in data["slices"])


def test_align_slice_turns_the_part_to_x():
    ph = make_phantom("transformer", size=96, slices=24, seed=25)
    roi = extract_roi(ph.volume)
    footprint = ph.part_mask.any(axis=0).astype(np.uint8)
    aligned = align_slice(footprint, roi) > 0
    ys, xs = np.nonzero(aligned)
    evals, evecs = np.linalg.eigh(np.cov(np.stack([xs, ys]).astype(float)))
    angle = np.degrees(np.arctan2(evecs[1, 1], evecs[0, 1]))
    assert abs((angle + 90) % 180 - 90) < 3.0
    assert abs(ph.angle_deg) > 3  # the test means something only for a turned part
