"""The atlas scorer through the command line: trained, scored, warned about another part, refused on too little."""
from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from ctreview.cli import main

TINY = ["--size", "64", "--slices", "32"]


@pytest.fixture(scope="module")
def phantoms(tmp_path_factory):
    folder = tmp_path_factory.mktemp("atlas") / "transformers"
    assert main(["phantom", str(folder), "--part", "transformer", "--normal", "4", "--defective", "1",
                 "--seed", "3", *TINY]) == 0
    return folder


@pytest.fixture(scope="module")
def atlas_model(phantoms):
    out = phantoms.parent / "model"
    assert main(["train", str(phantoms), "--out", str(out), "--scorers", "features,head,anogan,atlas",
                 "--tile-size", "32", "--head-iterations", "20", "--anogan-iterations", "20",
                 "--anogan-encoder-iterations", "10", "--anogan-width", "8", "--anogan-latent-dim", "16",
                 "--device", "cpu"]) == 0
    return out


def test_a_model_with_the_atlas_scorer_trains_and_scores_through_the_cli(atlas_model, phantoms, tmp_path):
    run = tmp_path / "run"
    assert main(["score", str(phantoms / "transformer_defect_000.tif"), "--model", str(atlas_model),
                 "--out", str(run), "--maps", "atlas", "--device", "cpu"]) == 0
    summary = json.loads((run / "summary.json").read_text())
    assert summary["model"]["scorers"] == ["anogan", "atlas", "features", "head"]
    assert not [w for w in summary["warnings"] if w.startswith("atlas:")]
    atlas_map = tifffile.imread(run / "heatmap-atlas.tif").astype(np.float32)
    labels = json.loads((phantoms / "labels.json").read_text())["transformer_defect_000"]["slices"]
    top = int(np.argmax(atlas_map.max(axis=(1, 2))))
    assert labels[top] == 1  # the atlas' hottest slice holds a planted defect


def test_a_scan_of_another_part_is_warned(atlas_model, tmp_path, capsys):
    other = tmp_path / "capacitors"
    assert main(["phantom", str(other), "--part", "capacitor", "--normal", "1", "--defective", "0", *TINY]) == 0
    capsys.readouterr()
    run = tmp_path / "run"
    assert main(["score", str(other / "capacitor_normal_000.tif"), "--model", str(atlas_model), "--out", str(run),
                 "--device", "cpu"]) == 0
    said = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning: atlas:")]
    assert len(said) == 1 and "not comparable" in said[0]
    summary = json.loads((run / "summary.json").read_text())
    assert said[0][len("warning: "):] in summary["warnings"]
    # and it feeds the domain check: the window's banner and batch.csv say the ranking is not to be trusted
    assert summary["domain"]["verdict"] == "outside" and not summary["domain"]["ok"]
    assert summary["domain"]["checks"]["atlas"]["doubts"] == [said[0][len("warning: atlas: "):]]
    assert said[0][len("warning: atlas: "):] in summary["domain"]["reason"]


def test_too_few_normal_volumes_for_an_atlas_are_refused_in_one_line(tmp_path, capsys):
    data = tmp_path / "two"
    assert main(["phantom", str(data), "--part", "transformer", "--normal", "2", "--defective", "0", *TINY]) == 0
    capsys.readouterr()
    assert main(["train", str(data), "--out", str(tmp_path / "m"), "--scorers", "atlas", "--device", "cpu"]) != 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and not (tmp_path / "m").exists()
    assert [line for line in err.splitlines() if line.startswith("error:")] == [
        line for line in err.splitlines() if "three normal volumes" in line]


def test_a_finer_scan_is_registered_at_the_model_scale(atlas_model, phantoms, tmp_path):
    from ctreview.io import open_volume, write_tiff

    coarse = open_volume(phantoms / "transformer_defect_000.tif")
    fine = np.repeat(np.repeat(np.repeat(coarse.read(0, coarse.shape[0]), 2, 0), 2, 1), 2, 2)
    path = write_tiff(tmp_path / "fine.tif", fine, [s / 2 for s in coarse.spacing])
    run = tmp_path / "run"
    assert main(["score", str(path), "--model", str(atlas_model), "--out", str(run), "--maps", "atlas",
                 "--device", "cpu"]) == 0
    summary = json.loads((run / "summary.json").read_text())
    assert summary["volume"]["binning"] == [2, 2, 2]
    assert not [w for w in summary["warnings"] if w.startswith("atlas:")]
    atlas_map = tifffile.imread(run / "heatmap-atlas.tif").astype(np.float32)
    labels = json.loads((phantoms / "labels.json").read_text())["transformer_defect_000"]["slices"]
    assert labels[int(np.argmax(atlas_map.max(axis=(1, 2)))) // 2] == 1
