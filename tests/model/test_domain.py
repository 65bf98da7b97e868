"""The domain fingerprint: a model knows what it was trained on and says when a volume is not that."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ctreview.io import as_volume
from ctreview.model.domain import (
    NO_FINGERPRINT,
    check_scores,
    compare,
    fingerprint_volumes,
    merge,
    training_fingerprint,
    volume_features,
)
from ctreview.phantom import make_phantom
from ctreview.roi import extract_roi

DEV = Path("/work/cache/phantoms")


def _volume(part: str, seed: int, defective: bool = False):
    p = make_phantom(part, size=96, slices=24, defective=defective, seed=seed)
    return as_volume(p.volume, spacing=p.spacing)


def _check(fingerprint, volume, profile="whole-part", tile=32):
    return compare(fingerprint, volume_features(volume, extract_roi(volume, profile, tile_size=tile)))


@pytest.fixture(scope="module")
def transformer_fp() -> dict:
    """The fingerprint of two normal transformer phantoms (seeds 0, 1), as training writes it."""
    return fingerprint_volumes([_volume("transformer", s) for s in (0, 1)], "whole-part", 32)


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_unseen_volumes_of_the_own_part_pass_normal_or_defective(transformer_fp, seed):
    for defective in (False, True):
        check = _check(transformer_fp, _volume("transformer", seed, defective))
        assert check.ok, check.checks
        assert check.reason == ""


def test_another_part_is_flagged_with_a_reason(transformer_fp):
    check = _check(transformer_fp, _volume("capacitor", 21))
    assert not check.ok
    assert not check.checks["intensity"]["ok"]
    assert "training domain" in check.reason and "grey values" in check.reason


@pytest.mark.parametrize("rescale", ["uint8", "float01", "x0.6"])
def test_another_intensity_calibration_is_flagged(transformer_fp, rescale):
    data = make_phantom("transformer", size=96, slices=24, seed=21).volume.astype(np.float64)
    lo, hi = data.min(), data.max()
    changed = {"uint8": ((data - lo) / (hi - lo) * 255).round().astype(np.uint8),
               "float01": ((data - lo) / (hi - lo)).astype(np.float32),
               "x0.6": (data * 0.6).round().astype(np.uint16)}[rescale]
    check = _check(transformer_fp, as_volume(changed, spacing=(0.05,) * 3))
    assert not check.ok and not check.checks["intensity"]["ok"]


def test_another_resolution_is_flagged_by_footprint_and_spacing(transformer_fp):
    p = make_phantom("transformer", size=96, slices=24, seed=21)
    coarse = as_volume(p.volume[::2, ::2, ::2], spacing=(0.1, 0.1, 0.1))  # the same part, half the pixels
    check = _check(transformer_fp, coarse)
    assert not check.ok
    assert not check.checks["spacing"]["ok"]
    assert not all(c["ok"] for c in check.checks["footprint"].values())


def test_unknown_spacing_is_not_held_against_a_volume(transformer_fp):
    volume = _volume("transformer", 21)
    features = volume_features(volume, extract_roi(volume, "whole-part", tile_size=32), spacing_known=False)
    check = compare(transformer_fp, {**features, "spacing": [1.0, 1.0, 1.0]})
    assert check.ok and "no voxel spacing" in check.checks["spacing"]["note"]


def test_a_model_without_fingerprint_is_never_flagged_for_it():
    check = _check(None, _volume("capacitor", 21))
    assert check.ok and check.checks == {"fingerprint": NO_FINGERPRINT}


def test_a_fingerprint_from_tiles_alone_still_checks_intensity():
    volume = _volume("transformer", 0)
    roi = extract_roi(volume, "whole-part", tile_size=32)
    from ctreview.roi import cut_tiles

    tiles = np.concatenate([cut_tiles(volume.slice(k), s.tiles, 32) for k, s in roi.slices.items()])
    fp = training_fingerprint([], tiles.astype(np.float32), profile="whole-part", tile_size=32)
    assert fp["footprint"] is None and fp["intensity"] is not None
    assert _check(fp, _volume("transformer", 21)).ok
    assert not _check(fp, _volume("capacitor", 21)).ok


def test_most_slices_above_threshold_flag_the_run():
    assert check_scores([0.2, 0.1, 1.5, 0.3])["ok"]
    run = check_scores([1.48] * 30 + [0.5] * 3)
    assert not run["ok"] and run["share"] > 0.9
    merged = merge(compare(None, {}), run)
    assert not merged.ok and "above threshold" in merged.reason
    assert merged.to_dict()["checks"]["scores"]["share"] == run["share"]


def test_bundled_models_carry_a_fingerprint_and_load():
    from ctreview.model import bundled_model_path, load_model
    from ctreview.model.meta import read_fingerprint

    for part in ("transformer", "capacitor"):
        demo = bundled_model_path(part)  # the fused demo model, and the AnoGAN it replaced beside it
        for folder, volumes in ((demo, 4), (demo.parent / f"anogan-{part}", 8)):
            model = load_model(folder, "cpu")  # the weights' checksum still holds
            fp = read_fingerprint(model.meta)
            assert fp is not None and fp["volumes"] == volumes and fp["profile"] == part, folder.name


@pytest.mark.slow
@pytest.mark.skipif(not (DEV / "dev-transformer").is_dir(), reason="the dev phantom sets are not on this machine")
@pytest.mark.parametrize("part,other", [("transformer", "capacitor"), ("capacitor", "transformer")])
def test_bundled_models_on_the_dev_sets(part, other):
    """Every dev volume of the model's part passes (normal and defective); the other part's are flagged."""
    from ctreview.io import open_volume
    from ctreview.model import bundled_model_path, read_meta
    from ctreview.model.meta import read_fingerprint

    fp = read_fingerprint(read_meta(bundled_model_path(part)))
    own = sorted((DEV / f"dev-{part}").glob(f"{part}_*.tif"))
    assert len(own) == 12
    for file in own:
        assert _check(fp, open_volume(file), part, 64).ok, file.name
    for file in sorted((DEV / f"dev-{other}").glob(f"{other}_normal_*.tif"))[:2]:
        assert not _check(fp, open_volume(file), part, 64).ok, file.name
