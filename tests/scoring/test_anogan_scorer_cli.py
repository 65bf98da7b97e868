"""A fused model with the conditioned AnoGAN scorer trains, saves, loads and scores through ``ctreview score``."""
from __future__ import annotations

import csv
import json

import pytest


@pytest.fixture(scope="module")
def anogan_detector(tiny_data, tmp_path_factory):
    from helpers_model import train_tiny_detector

    return train_tiny_detector([tiny_data], tmp_path_factory.mktemp("anogan") / "model",
                               scorers=("features", "head", "anogan"))


def _score(volume, model, run, *flags: str) -> tuple[dict[int, float], dict]:
    from ctreview.cli import main

    assert main(["score", str(volume), "--model", str(model), "--out", str(run), "--device", "cpu",
                 "--maps", "anogan", *flags]) == 0
    with open(run / "scores.csv", newline="") as fh:
        papers = {int(r["slice"]): float(r["paper_score"]) for r in csv.DictReader(fh)}
    return papers, json.loads((run / "summary.json").read_text())


def test_the_anogan_scorer_scores_through_the_cli_with_the_depth_of_each_run(anogan_detector, tiny_data, tmp_path):
    from ctreview.model import load_model
    from ctreview.model.scorers.cond_anogan_scorer import CondAnoganScorer

    model = load_model(anogan_detector, "cpu")
    assert isinstance(model.scorers["anogan"], CondAnoganScorer) and model.scorers["anogan"].steps == 0
    # the default weights of the family: in the heatmap's mean, and in the slice score's
    assert model.fusion.weights == {"anogan": 0.5} and model.fusion.slice_weights == {"anogan": 0.1}
    volume = tiny_data / "transformer_defect_000.tif"
    shallow, summary0 = _score(volume, anogan_detector, tmp_path / "d0", "--anogan-steps", "0")
    deep, summary5 = _score(volume, anogan_detector, tmp_path / "d5", "--anogan-steps", "5")
    assert summary0["settings"]["anogan_steps"] == 0 and summary5["settings"]["anogan_steps"] == 5
    assert "anogan" in summary5["model"]["scorers"] and (tmp_path / "d5" / "heatmap-anogan.tif").is_file()
    # the seeds' paper score is in every row; the deeper search never ends above where it started
    assert shallow.keys() == deep.keys() and all(v > 0 for v in shallow.values())
    assert all(deep[k] <= shallow[k] * (1 + 1e-5) for k in deep)
    assert any(deep[k] < shallow[k] * 0.999 for k in deep)
