"""Simulated phantoms: ground truth consistency, determinism, the CLI."""
import json

import numpy as np
import pytest
import tifffile

from ctreview.cli import main
from ctreview.phantom import PARTS, make_phantom, phantom_seed, write_phantom_set
from ctreview.phantom._ctsim import AIR_VALUE, GAIN
from ctreview.phantom._materials import ATTENUATION
from ctreview.phantom.phantom import build_labels

SMALL = dict(size=64, slices=24)


@pytest.fixture(scope="module", params=PARTS)
def defective(request):
    return make_phantom(request.param, defective=True, seed=11, **SMALL)


def test_shapes_and_types(defective):
    ph = defective
    assert ph.volume.shape == (24, 64, 64) and ph.volume.dtype == np.uint16
    assert ph.part_mask.dtype == bool and ph.part_mask.shape == ph.volume.shape
    assert ph.defect_mask.dtype == np.uint8 and ph.slice_labels.shape == (24,)
    assert -30 <= ph.angle_deg <= 30 and abs(ph.tilt_deg) <= 5


def test_labels_match_masks(defective):
    ph = defective
    assert 2 <= len(ph.defects) <= 5
    has = ph.defect_mask.reshape(24, -1).max(axis=1) > 0
    np.testing.assert_array_equal(ph.slice_labels, has.astype(np.uint8))
    assert set(np.unique(ph.defect_mask)) == set(range(len(ph.defects) + 1))


def test_defects_small_inside_part_and_few_slices(defective):
    ph = defective
    for k, defect in enumerate(ph.defects, 1):
        voxels = ph.defect_mask == k
        assert ph.part_mask[voxels].all(), defect
        zs, ys, xs = np.nonzero(voxels)
        assert 1 <= np.ptp(zs) + 1 <= 7
        assert max(np.ptp(ys), np.ptp(xs)) + 1 <= 40
        assert defect["voxels"] == voxels.sum()


def test_defects_visible_above_noise(defective):
    """The noise-free contrast of every defect is many times the CT noise."""
    ph = defective
    seed = 11
    clean, *_ = build_labels(ph.part, defective=False, seed=seed, **SMALL)
    planted, mask, *_ = build_labels(ph.part, defective=True, seed=seed, **SMALL)
    air = ph.volume[~ph.part_mask & (ph.volume < AIR_VALUE + 0.05 * GAIN)]
    noise = air.astype(float).std()
    for k in range(1, mask.max() + 1):
        sel = mask == k
        contrast = np.abs(ATTENUATION[planted[sel]] - ATTENUATION[clean[sel]]).mean() * GAIN
        assert contrast > 5 * noise


def test_normal_has_no_defects():
    ph = make_phantom("capacitor", defective=False, seed=2, **SMALL)
    assert ph.defects == [] and not ph.defect_mask.any() and not ph.slice_labels.any()
    # the plastic holder is scanned but is not part of the part
    assert (ph.volume[~ph.part_mask] > AIR_VALUE + 0.06 * GAIN).sum() > 50


def test_same_seed_same_volume_other_seed_differs():
    a = make_phantom("transformer", seed=5, **SMALL)
    b = make_phantom("transformer", seed=5, **SMALL)
    c = make_phantom("transformer", seed=6, **SMALL)
    np.testing.assert_array_equal(a.volume, b.volume)
    assert a.angle_deg != c.angle_deg and not np.array_equal(a.part_mask, c.part_mask)


def test_materials_ordered_like_a_scan():
    ph = make_phantom("transformer", seed=1, **SMALL)
    labels, *_ = build_labels("transformer", seed=1, **SMALL)
    means = {m: ph.volume[labels == m].mean() for m in (0, 1, 2, 3, 4, 5)}
    assert means[0] < means[1] < means[2] < means[3] < means[4] < means[5]


def test_bad_arguments():
    with pytest.raises(ValueError):
        make_phantom("resistor")
    with pytest.raises(ValueError):
        make_phantom("capacitor", size=8)


def test_seed_of_volume_i_does_not_depend_on_set_size():
    assert phantom_seed(3, "normal", 1) == phantom_seed(3, "normal", 1)
    assert phantom_seed(3, "normal", 1) != phantom_seed(3, "defect", 1)


def test_write_set_and_cli(tmp_path):
    small = write_phantom_set(tmp_path / "a", part="capacitor", normal=1, defective=1, seed=4, **SMALL)
    rc = main(["phantom", str(tmp_path / "b"), "--part", "capacitor", "--normal", "2",
               "--defective", "1", "--seed", "4", "--size", "64", "--slices", "24"])
    assert rc == 0
    out = tmp_path / "b"
    labels = json.loads((out / "labels.json").read_text())
    assert sorted(labels) == ["capacitor_defect_000", "capacitor_normal_000", "capacitor_normal_001"]
    for stem, entry in labels.items():
        volume = tifffile.imread(out / f"{stem}.tif")
        mask = tifffile.imread(out / "masks" / f"{stem}_defects.tif")
        assert volume.shape == (24, 64, 64) and volume.dtype == np.uint16
        assert entry["defective"] == bool(mask.any())
        np.testing.assert_array_equal(entry["slices"], (mask.reshape(24, -1).max(1) > 0).astype(int))
    # volume i is the same whatever the number of volumes asked for
    for path in small:
        np.testing.assert_array_equal(tifffile.imread(path), tifffile.imread(out / path.name))


def test_cli_rejects_bad_size(tmp_path, capsys):
    assert main(["phantom", str(tmp_path), "--size", "4"]) == 2
    assert "error:" in capsys.readouterr().err
