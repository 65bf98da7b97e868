"""The slice score has a fusion rule of its own, stored in model.json and applied; older models keep theirs."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from helpers_model import drain, train_tiny_detector

from ctreview.io import open_volume
from ctreview.model import load_model, read_meta
from ctreview.scoring import ScoringSettings, find_roi, run_scoring


@pytest.fixture(scope="module")
def two_rule_model(tiny_data, tmp_path_factory):
    """A tiny model whose heatmap weighs the AnoGAN fully and whose slice score leaves it out (top-4 mean)."""
    out = tmp_path_factory.mktemp("slice-rule") / "model"
    return train_tiny_detector([tiny_data], out, scorers=("features", "head", "anogan"),
                               fusion_weights=(("anogan", 1.0),), slice_weights=(("anogan", 0.0),), slice_top=4)


def _scored(model_dir, tiny_data):
    model = load_model(model_dir, "cpu")
    volume = open_volume(tiny_data / "transformer_defect_000.tif")
    results, _ = drain(run_scoring(volume, model, ScoringSettings(mode="fast")))
    roi = find_roi(volume, model, ScoringSettings())
    return [(r, roi.slices[r.index].mask(volume.shape[1:])) for r in results[1:]]


def test_the_model_stores_its_slice_rule_with_a_threshold_of_its_own(two_rule_model):
    fusion = read_meta(two_rule_model)["detector"]["fusion"]
    assert fusion["weights"] == {"anogan": 1.0}
    assert fusion["slice_weights"] == {"anogan": 0.0} and fusion["slice_top"] == 4
    assert fusion["slice_threshold"] > 0 and fusion["slice_threshold"] != fusion["threshold"]


def test_the_slice_score_follows_the_slice_rule_and_the_heatmap_its_own(two_rule_model, tiny_data):
    fusion = read_meta(two_rule_model)["detector"]["fusion"]
    differ = 0
    for r, mask in _scored(two_rule_model, tiny_data):
        m = {name: r.maps[name][mask] for name in ("features", "head", "anogan")}
        heat = (m["features"] + m["head"] + m["anogan"]) / 3 / fusion["threshold"]
        np.testing.assert_allclose(r.heatmap[mask], heat, rtol=1e-4, atol=1e-6)
        without = np.sort((m["features"] + m["head"]) / 2)[-4:].mean()
        assert r.relative == pytest.approx(without / fusion["slice_threshold"], rel=1e-4)
        differ += not np.isclose(r.relative, float(r.heatmap.max()), rtol=1e-3)
    assert differ > 0  # the two rules do give different numbers: the slice score is not the heatmap's max


def test_a_model_without_a_slice_rule_scores_a_slice_by_its_heatmap_maximum(two_rule_model, tiny_data, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(two_rule_model, old)
    meta = json.loads((old / "model.json").read_text())
    for key in ("slice_weights", "slice_top", "slice_threshold"):
        del meta["detector"]["fusion"][key]  # model.json as written before the slice rule existed
    (old / "model.json").write_text(json.dumps(meta))
    for r, _ in _scored(old, tiny_data):
        assert r.relative == pytest.approx(float(r.heatmap.max()))


def test_a_model_trained_with_the_defaults_stores_the_default_rules(tiny_data, tmp_path):
    from ctreview.training.detector_settings import DetectorSettings

    defaults = DetectorSettings()
    out = train_tiny_detector([tiny_data], tmp_path / "m", scorers=("features", "head", "anogan"))
    fusion = read_meta(out)["detector"]["fusion"]
    assert fusion["weights"] == dict(defaults.fusion_weights) == {"anogan": 0.5}
    assert fusion["slice_weights"] == dict(defaults.slice_weights or ()) == {"anogan": 0.1}
    assert fusion["slice_top"] == defaults.slice_top == 1
