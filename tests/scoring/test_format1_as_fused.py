"""An AnoGAN model of format 1 is scored as a fused model with one AnoGAN scorer, and says so."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest


def test_a_format_1_model_folder_scores_through_the_cli_and_says_how(tiny_data, tiny_model, tmp_path, capsys):
    from ctreview.cli import main

    run = tmp_path / "run"
    assert main(["score", str(tiny_data / "transformer_defect_000.tif"), "--model", str(tiny_model),
                 "--out", str(run), "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    assert f"model {json.loads((tiny_model / 'model.json').read_text())['name']} is an AnoGAN model of format 1: " \
           "scored as a fused model with one AnoGAN scorer" in err
    summary = json.loads((run / "summary.json").read_text())
    assert summary["model"]["format_version"] == 1 and summary["model"]["scorers"] == ["anogan"]
    assert summary["statistic"] == "z-contrast"
    with open(run / "scores.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) > 8 and all(float(r["paper_score"]) > 0 for r in rows)


def test_a_format_1_model_scores_its_z_contrast_through_the_one_pass(tiny_data, tiny_model):
    from helpers_model import drain

    from ctreview.io import open_volume
    from ctreview.model import load_anogan, load_model
    from ctreview.model.detector import Detector
    from ctreview.model.scorers.anogan_scorer import AnoganScorer
    from ctreview.scoring import score_volume
    from ctreview.scoring.inputs import SliceInputs
    from ctreview.scoring.settings import ScoringSettings
    from ctreview.scoring.stream import find_roi

    old, model = load_anogan(tiny_model, "cpu"), load_model(tiny_model, "cpu")
    assert isinstance(model, Detector) and list(model.scorers) == ["anogan"]
    assert model.fusion.threshold == old.threshold_for("fast") and "format 1" in model.notes[0]
    cfg = ScoringSettings(mode="fast")
    plain = AnoganScorer(old, contrast=False)  # the encoder residual, without the z-contrast
    with open_volume(tiny_data / "transformer_defect_000.tif") as volume:
        roi = find_roi(volume, model, cfg)
        results, _ = drain(score_volume(volume, model, cfg, roi=roi))
        build = SliceInputs(volume, roi, ())
        ks = sorted(roi.slices)
        residual = {k: plain.maps([build(k)])[0] for k in ks}
    # by hand: each slice's residual minus the median of the ROI slices 3..6 away, clipped, its max
    scored = {r.index: r.score for r in results}
    assert sorted(scored) == ks
    for k in ks[::4]:
        near = [residual[j] for j in ks if 3 <= abs(j - k) <= 6]
        expect = np.maximum(residual[k] - np.median(np.stack(near), axis=0), 0.0).max()
        assert scored[k] == pytest.approx(float(expect), rel=1e-3, abs=1e-6)


def test_an_unconditioned_anogan_scorer_config_without_a_variant_still_loads(tiny_data, tiny_model):
    from ctreview.io import open_volume
    from ctreview.model import load_anogan
    from ctreview.model.scorers import load_scorer
    from ctreview.model.scorers.anogan_scorer import AnoganScorer
    from ctreview.scoring.inputs import SliceInputs
    from ctreview.scoring.settings import ScoringSettings
    from ctreview.scoring.stream import find_roi

    scorer = AnoganScorer(load_anogan(tiny_model, "cpu"), contrast=False)
    config = {k: v for k, v in scorer.config().items() if k not in ("variant", "statistic")}  # as first written
    again = load_scorer("anogan", config, scorer.state(), "cpu")
    assert isinstance(again, AnoganScorer) and again.statistic == "residual"
    with open_volume(tiny_data / "transformer_normal_000.tif") as volume:
        roi = find_roi(volume, scorer.model, ScoringSettings())
        inp = SliceInputs(volume, roi, ())(sorted(roi.slices)[5])
    np.testing.assert_allclose(again.maps([inp])[0], scorer.maps([inp])[0], atol=1e-5)
