"""An AnoGAN model of format 1 is scored as a fused model with one AnoGAN scorer, and says so."""
from __future__ import annotations

import csv
import json

import numpy as np


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


def test_the_fused_form_of_a_format_1_model_scores_as_its_own_pass(tiny_data, tiny_model):
    from helpers_model import drain

    from ctreview.io import open_volume
    from ctreview.model import load_detector, load_model
    from ctreview.model.detector import Detector
    from ctreview.scoring import score_volume
    from ctreview.scoring.settings import ScoringSettings
    from ctreview.scoring.stream import find_roi

    old, new = load_model(tiny_model, "cpu"), load_detector(tiny_model, "cpu")
    assert isinstance(new, Detector) and new.fusion.threshold == old.threshold_for("fast")
    cfg = ScoringSettings(mode="fast")
    with open_volume(tiny_data / "transformer_defect_000.tif") as volume:
        roi = find_roi(volume, old, cfg)
        before, _ = drain(score_volume(volume, old, cfg, roi=roi))
        after, _ = drain(score_volume(volume, new, cfg, roi=roi))
    b = {r.index: r.score for r in before}
    a = {r.index: r.score for r in after}
    assert a.keys() == b.keys()
    ks = sorted(b)
    # the same z-contrast, neighbour for neighbour: the same scores
    np.testing.assert_allclose([a[k] for k in ks], [b[k] for k in ks], rtol=1e-4, atol=1e-6)


def test_an_unconditioned_anogan_scorer_config_without_a_variant_still_loads(tiny_data, tiny_model):
    from ctreview.io import open_volume
    from ctreview.model import load_model
    from ctreview.model.scorers import load_scorer
    from ctreview.model.scorers.anogan_scorer import AnoganScorer
    from ctreview.scoring.inputs import SliceInputs
    from ctreview.scoring.settings import ScoringSettings
    from ctreview.scoring.stream import find_roi

    scorer = AnoganScorer(load_model(tiny_model, "cpu"), contrast=False)
    config = {k: v for k, v in scorer.config().items() if k not in ("variant", "statistic")}  # as first written
    again = load_scorer("anogan", config, scorer.state(), "cpu")
    assert isinstance(again, AnoganScorer) and again.statistic == "residual"
    with open_volume(tiny_data / "transformer_normal_000.tif") as volume:
        roi = find_roi(volume, scorer.model, ScoringSettings())
        inp = SliceInputs(volume, roi, ())(sorted(roi.slices)[5])
    np.testing.assert_allclose(again.maps([inp])[0], scorer.maps([inp])[0], atol=1e-5)
