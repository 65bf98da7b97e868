"""Scoring says when the volume is outside the model's training domain: summary.json, the CLI, the report."""
from __future__ import annotations

import json
import shutil

import pytest
from helpers_model import drain

from ctreview.cli import main
from ctreview.io import write_tiff
from ctreview.phantom import make_phantom
from ctreview.scoring import ScoringSettings, run_scoring


@pytest.fixture(scope="module")
def capacitor_file(tmp_path_factory):
    p = make_phantom("capacitor", size=96, slices=24, seed=31)
    return write_tiff(tmp_path_factory.mktemp("cap") / "capacitor.tif", p.volume, spacing=p.spacing)


def _score(path, model_dir, out):
    return main(["score", str(path), "--model", str(model_dir), "--out", str(out), "--mode", "fast",
                 "--device", "cpu"])


def test_a_volume_of_the_own_part_is_inside_the_domain(tiny_data, tiny_model, tmp_path, capsys):
    assert _score(tiny_data / "transformer_defect_000.tif", tiny_model, tmp_path / "run") == 0
    domain = json.loads((tmp_path / "run" / "summary.json").read_text())["domain"]
    assert domain["ok"] is True and domain["reason"] == ""
    assert domain["checks"]["intensity"]["ok"] and domain["checks"]["scores"]["ok"]
    assert "warning:" not in capsys.readouterr().err


def test_another_part_is_flagged_in_summary_and_on_stderr(capacitor_file, tiny_model, tmp_path, capsys):
    assert _score(capacitor_file, tiny_model, tmp_path / "run") == 0
    domain = json.loads((tmp_path / "run" / "summary.json").read_text())["domain"]
    assert domain["ok"] is False and "training domain" in domain["reason"]
    err = capsys.readouterr().err
    assert f"warning: {capacitor_file}: outside the model's training domain" in err


def test_a_model_without_fingerprint_says_so_and_is_not_flagged_for_it(capacitor_file, tiny_model, tmp_path):
    from ctreview.io import open_volume
    from ctreview.model import load_model

    old = shutil.copytree(tiny_model, tmp_path / "old-model")
    meta = json.loads((old / "model.json").read_text())
    del meta["domain"]  # a model from before fingerprints; its weights' checksum still holds
    (old / "model.json").write_text(json.dumps(meta))
    events = run_scoring(open_volume(capacitor_file), load_model(old, "cpu"), ScoringSettings(mode="fast"))
    results, summary = drain(events)
    assert results[0].domain["checks"]["fingerprint"] == "no domain fingerprint"
    assert summary.domain["checks"]["fingerprint"] == "no domain fingerprint"
    assert summary.domain["ok"] is summary.domain["checks"]["scores"]["ok"]
