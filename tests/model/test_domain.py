"""The domain fingerprint: a model knows what it was trained on and says when a volume is not that."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ctreview.io import as_volume
from ctreview.model.domain import (
    INSIDE,
    MANY_ABOVE,
    NO_FINGERPRINT,
    NOT_CHECKED,
    OUTSIDE,
    check_scores,
    comparable,
    compare,
    fingerprint_volumes,
    merge,
    training_fingerprint,
    verdict_of,
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


# --- the calibrated fingerprint (version 2): twins of the model's own part, another part, verdicts ---------

TWINS = 20


@pytest.fixture(scope="module")
def twin_set(tmp_path_factory) -> Path:
    """``ctreview phantom --twins``: 4 normal and 20 defective small transformers, each with its twin."""
    from ctreview.cli import main

    out = tmp_path_factory.mktemp("twins") / "set"
    assert main(["phantom", str(out), "--part", "transformer", "--normal", "4", "--defective", str(TWINS),
                 "--seed", "5", "--size", "64", "--slices", "24", "--twins"]) == 0
    return out


@pytest.fixture(scope="module")
def twin_model(twin_set) -> Path:
    """A tiny fused model trained on the set's normal volumes (its defective ones and twins are skipped)."""
    from helpers_model import train_tiny_detector

    return train_tiny_detector([twin_set], twin_set.parent / "model")


def _model_check(model_dir, file):
    from ctreview.io import open_volume
    from ctreview.model import read_meta
    from ctreview.model.meta import read_fingerprint

    meta = read_meta(model_dir)
    volume = open_volume(file)
    roi = extract_roi(volume, meta["profile"], tile_size=int(meta["tile_size"]))
    return compare(read_fingerprint(meta), volume_features(volume, roi))


def test_training_calibrates_the_fingerprint_on_its_held_out_normal_volumes(twin_model):
    from ctreview.model import read_meta
    from ctreview.model.meta import read_fingerprint

    fp = read_fingerprint(read_meta(twin_model))
    assert fp is not None and fp["version"] == 2
    assert fp["volumes"] == 3 and fp["held_out"] == 1  # 4 normal volumes: a quarter held out
    for block in (fp["intensity"], fp["size"]):
        assert block["method"] == "held-out volumes"
        assert all(t > 0 for t in block["tolerance"])
    json.dumps(fp, allow_nan=False)  # plain JSON, no torch


def test_defect_free_twins_of_the_own_part_warn_at_most_one_in_twenty(twin_set, twin_model):
    twins = sorted((twin_set / "twins").glob("*.tif"))
    assert len(twins) == TWINS
    checks = [_model_check(twin_model, file) for file in twins]
    warned = [(file.name, c.reason) for file, c in zip(twins, checks) if not c.ok]
    assert len(warned) <= TWINS // 20, warned
    assert all(c.verdict == INSIDE for c in checks if c.ok)


def test_another_part_always_warns_as_outside(twin_model, tmp_path):
    from ctreview.phantom import write_phantom_set

    files = write_phantom_set(tmp_path, part="capacitor", normal=3, defective=2, seed=5, size=64, slices=24)
    for file in files:
        check = _model_check(twin_model, file)
        assert not check.ok and check.verdict == OUTSIDE, file.name
        assert check.reason.startswith("outside the model's training domain: ")


def test_a_few_pixels_of_part_size_do_not_flag_but_another_size_does(transformer_fp):
    """The part's sizes are compared relatively: 2 px more or less never flags; a 1.5x smaller part does."""
    volume = _volume("transformer", 21)
    features = volume_features(volume, extract_roi(volume, "whole-part", tile_size=32))
    foot = features["footprint"]
    for grow in (-2, 2):  # px added to each side of the cross-section: the old tile count flipped at this
        side = np.sqrt(foot["area_px"])
        changed = {**foot, "area_px": (side + 2 * grow) ** 2, "tiles_per_slice": foot["tiles_per_slice"] * 2}
        assert compare(transformer_fp, {**features, "footprint": changed}).ok
    small = {**foot, "area_px": foot["area_px"] / 2.5, "footprint_px": foot["footprint_px"] / 2.5}
    check = compare(transformer_fp, {**features, "footprint": small})
    assert not check.ok and "smaller" in check.reason


def test_many_slices_above_threshold_is_its_own_verdict_not_another_kind_of_scan(transformer_fp):
    inside = _check(transformer_fp, _volume("transformer", 21, defective=True))
    merged = merge(inside, check_scores([1.6] * 40 + [0.4] * 4))
    assert not merged.ok and merged.verdict == MANY_ABOVE
    assert merged.reason.startswith("many slices above threshold")
    assert "training domain" not in merged.reason and "kind of scan" not in merged.reason
    outside = merge(_check(transformer_fp, _volume("capacitor", 21)), check_scores([1.6] * 40))
    assert outside.verdict == OUTSIDE and "kind of scan" in outside.reason
    assert verdict_of(merged.to_dict()) == MANY_ABOVE and verdict_of(outside.to_dict()) == OUTSIDE
    assert not comparable(outside.to_dict()) and comparable(merged.to_dict())


def test_summaries_written_before_verdicts_still_read():
    old_outside = {"ok": False, "reason": "outside the model's training domain: grey values 1-2 unlike", "checks": {}}
    old_many = {"ok": False, "reason": "90% of the slices score above threshold (normal parts: about 1%): ...",
                "checks": {"scores": {"ok": False}}}
    assert verdict_of(old_outside) == OUTSIDE and verdict_of(old_many) == MANY_ABOVE
    assert verdict_of({"ok": True, "reason": "", "checks": {"fingerprint": NO_FINGERPRINT}}) == NOT_CHECKED
    assert verdict_of(None) == NOT_CHECKED and verdict_of({"ok": True, "checks": {}}) == INSIDE


def _v1_fingerprint(volumes) -> dict:
    """A fingerprint as ctreview wrote it before version 2 (tile quantiles, footprint in px, fixed tolerances)."""
    feats = [volume_features(v, extract_roi(v, "whole-part", tile_size=32)) for v in volumes]
    spread = lambda rows: {"median": np.median(rows, 0).tolist(), "min": np.min(rows, 0).tolist(),  # noqa: E731
                           "max": np.max(rows, 0).tolist()}
    return {"version": 1, "profile": "whole-part", "tile_size": 32, "volumes": len(feats),
            "quantiles": [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99],
            "intensity": spread([f["intensity"] for f in feats]), "dtypes": ["uint16"],
            "footprint": {k: spread([f["footprint"][k] for f in feats]) for k in feats[0]["footprint"]},
            "spacing": spread([f["spacing"] for f in feats]), "scores": {"fpr": 0.01}}


def test_an_old_model_file_with_a_version_1_fingerprint_loads_and_checks(tiny_model, tmp_path):
    import shutil

    from ctreview.model import load_model
    from ctreview.model.meta import read_fingerprint

    v1 = _v1_fingerprint([_volume("transformer", s) for s in (0, 1)])
    v1["footprint"]["tiles_per_slice"] = {"median": 99.0, "min": 99.0, "max": 99.0}  # no longer held against it
    old = shutil.copytree(tiny_model, tmp_path / "old-model")
    meta = json.loads((old / "model.json").read_text())
    meta["domain"] = v1
    (old / "model.json").write_text(json.dumps(meta))
    fp = read_fingerprint(load_model(old, "cpu").meta)  # the weights' checksum still holds
    assert fp is not None and fp["version"] == 1
    own = _check(fp, _volume("transformer", 21))
    assert own.ok and own.verdict == INSIDE and "tiles_per_slice" not in own.checks["footprint"]
    other = _check(fp, _volume("capacitor", 21))
    assert not other.ok and other.verdict == OUTSIDE


def test_a_damaged_fingerprint_is_not_read():
    from ctreview.model.meta import read_fingerprint

    fp = fingerprint_volumes([_volume("transformer", 0)], "whole-part", 32)
    assert read_fingerprint({"domain": fp}) is fp
    broken = {**fp, "intensity": {k: v for k, v in fp["intensity"].items() if k != "tolerance"}}
    assert read_fingerprint({"domain": broken}) is None
    assert read_fingerprint({"domain": {**fp, "version": 99}}) is None

