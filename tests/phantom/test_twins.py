"""Defect-free twins: same part and pose, no defects, independent noise; old phantoms unchanged."""
import hashlib
import json

import numpy as np
import pytest
import tifffile
from scipy import ndimage, stats

from ctreview.cli import main
from ctreview.phantom import PARTS, make_phantom, make_twin, write_phantom_set

SMALL = dict(size=64, slices=24)

# sha256 (first 16 hex digits) of make_phantom(part, size=48, slices=12, defective, seed=7).volume,
# recorded before twins existed. A change here means every stored phantom set changed too.
# (A numpy/scikit-image upgrade that alters the FBP's floating point would also show here.)
VOLUME_SHA = {
    ("transformer", False): "18e6374026e71699", ("transformer", True): "7e0041d02c3af738",
    ("capacitor", False): "c632c1221b8851cd", ("capacitor", True): "4bc55b2a1e6ab92b",
}


@pytest.mark.parametrize("part, defective", sorted(VOLUME_SHA))
def test_phantoms_are_bit_for_bit_as_before_twins(part, defective):
    ph = make_phantom(part, size=48, slices=12, defective=defective, seed=7)
    assert hashlib.sha256(ph.volume.tobytes()).hexdigest()[:16] == VOLUME_SHA[part, defective]


@pytest.fixture(scope="module", params=PARTS)
def pair(request):
    part = request.param
    return (make_phantom(part, defective=True, seed=11, **SMALL),
            make_twin(part, seed=11, **SMALL))


def test_twin_same_part_and_pose_without_defects(pair):
    defective, twin = pair
    assert (twin.angle_deg, twin.tilt_deg, twin.part) == (
        defective.angle_deg, defective.tilt_deg, defective.part)
    assert twin.defects == [] and not twin.defect_mask.any() and not twin.slice_labels.any()
    # the same part; only material that a defect added (bridge, solder ball) is not in the twin
    assert not (twin.part_mask & ~defective.part_mask).any()
    np.testing.assert_array_equal(twin.part_mask | (defective.defect_mask > 0), defective.part_mask)


def test_twin_differs_at_defects_and_only_by_noise_elsewhere(pair):
    defective, twin = pair
    x, t = defective.volume.astype(float), twin.volume.astype(float)
    inside = defective.defect_mask > 0
    far = ~ndimage.binary_dilation(inside, iterations=3)
    far &= _scan_circle(x.shape)  # outside it both scans are exactly air
    noise = np.abs(x - t)[far]
    # independent noise: no voxel pair is identical everywhere, and the defects stand far above it
    assert np.mean(noise == 0) < 0.05
    assert np.abs(x - t)[inside].mean() > 10 * noise.mean()
    # equal in distribution: same grey values on average and the same histogram
    assert abs((x - t)[far].mean()) < 0.05 * noise.std()
    assert stats.ks_2samp(x[far], t[far]).statistic < 0.01


def test_twin_of_other_seed_is_other_part():
    a = make_twin("capacitor", seed=11, **SMALL)
    b = make_twin("capacitor", seed=12, **SMALL)
    assert a.angle_deg != b.angle_deg


def test_write_set_with_twins_keeps_volumes_and_adds_twins(tmp_path):
    plain = write_phantom_set(tmp_path / "plain", part="transformer", normal=1, defective=1,
                              seed=3, **SMALL)
    rc = main(["phantom", str(tmp_path / "cli"), "--part", "transformer", "--normal", "1",
               "--defective", "1", "--seed", "3", "--size", "64", "--slices", "24", "--twins"])
    assert rc == 0
    out = tmp_path / "cli"
    for path in plain:  # asking for twins does not change the volumes
        np.testing.assert_array_equal(tifffile.imread(path), tifffile.imread(out / path.name))
    labels = json.loads((out / "labels.json").read_text())
    assert "twin" not in labels["transformer_normal_000"]
    entry = labels["transformer_defect_000"]
    assert entry["twin"] == "twins/transformer_defect_000.tif"
    twin_file = out / entry["twin"]
    expected = make_twin("transformer", seed=_defect_seed(3), **SMALL)
    np.testing.assert_array_equal(tifffile.imread(twin_file), expected.volume)
    # same spacing metadata as the defective volume
    with tifffile.TiffFile(twin_file) as a, tifffile.TiffFile(out / plain[1].name) as b:
        assert a.imagej_metadata["spacing"] == b.imagej_metadata["spacing"]
        assert a.pages[0].tags["XResolution"].value == b.pages[0].tags["XResolution"].value
    assert sorted(p.name for p in (out / "twins").iterdir()) == ["transformer_defect_000.tif"]


def _scan_circle(shape) -> np.ndarray:
    _, y, x = np.ogrid[:shape[0], :shape[1], :shape[2]]
    c = (shape[1] - 1) / 2
    return (y - c) ** 2 + (x - c) ** 2 < (0.45 * shape[1]) ** 2


def _defect_seed(seed: int) -> int:
    from ctreview.phantom import phantom_seed

    return phantom_seed(seed, "defect", 0)
