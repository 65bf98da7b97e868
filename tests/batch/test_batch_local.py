"""`ctreview batch` on the local process pool: same scores as `ctreview score`, resume, bad volumes, exit codes."""
from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from ctreview.cli import main
from ctreview.scoring.heatmap_file import read_heatmap
from tests.batch.batch_helpers import read_rows, score_reference

RUN_FILES = ["defects.csv", "heatmap.tif", "scores.csv", "summary.json"]


def _batch(*inputs, model, runs, extra=()) -> int:
    return main(["batch", *map(str, inputs), "--model", str(model), "--out", str(runs), "--mode", "fast", *extra])


def test_a_batch_scores_like_ctreview_score_worst_first_and_a_rerun_skips_all(volumes, tiny_model, tmp_path,
                                                                                capsys):
    runs = tmp_path / "runs"
    assert _batch(volumes, model=tiny_model, runs=runs, extra=["--workers", "2"]) == 0
    rows = read_rows(runs)
    assert sorted(os.path.basename(r["volume"]) for r in rows) == sorted(p.name for p in volumes.glob("*.tif"))
    assert [r["status"] for r in rows] == ["done"] * 3
    worst = [float(r["worst"]) for r in rows]
    assert worst == sorted(worst, reverse=True)  # the top row is the part to open first
    for row in rows:
        run = runs / row["run"]
        assert sorted(os.listdir(run)) == RUN_FILES
        ref = score_reference(row["volume"], tiny_model, tmp_path / "ref" / row["run"])
        assert (run / "scores.csv").read_text() == (ref / "scores.csv").read_text()
        np.testing.assert_array_equal(read_heatmap(run / "heatmap.tif"), read_heatmap(ref / "heatmap.tif"))
        summary = json.loads((ref / "summary.json").read_text())
        assert int(row["above"]) == summary["counts"]["above_threshold"] and row["fingerprint"].startswith("v1:")
    info = json.loads((runs / "batch.json").read_text())
    assert info["executor"]["kind"] == "local" and info["executor"]["workers"] == 2
    assert info["executor"]["threads_per_worker"] == {"*": 1}  # CTREVIEW_THREADS=1 in the tests
    assert info["totals"] == {"volumes": 3, "done": 3, "skipped": 0, "failed": 0, "pending": 0,
                              "above": sum(w >= 1.0 for w in worst)}
    stamps = {r["run"]: (runs / r["run"] / "summary.json").stat().st_mtime_ns for r in rows}
    capsys.readouterr()

    assert _batch(volumes, model=tiny_model, runs=runs, extra=["--workers", "2"]) == 0
    assert "0 scored, 3 skipped" in capsys.readouterr().out
    again = read_rows(runs)
    assert [r["status"] for r in again] == ["skipped"] * 3
    assert [r["worst"] for r in again] == [r["worst"] for r in rows]
    assert {r["run"]: (runs / r["run"] / "summary.json").stat().st_mtime_ns for r in again} == stamps


def test_other_settings_score_again(volumes, tiny_model, tmp_path, capsys):
    runs = tmp_path / "runs"
    one = volumes / "transformer_normal_000.tif"
    assert _batch(one, model=tiny_model, runs=runs, extra=["--workers", "1"]) == 0
    assert _batch(one, model=tiny_model, runs=runs, extra=["--workers", "1", "--batch-size", "16"]) == 0
    assert "1 scored, 0 skipped" in capsys.readouterr().out.splitlines()[-1]
    assert json.loads((runs / read_rows(runs)[0]["run"] / "summary.json").read_text())["settings"]["batch_size"] == 16


def test_a_corrupt_volume_is_a_failed_row_and_exit_1_while_the_others_are_done(volumes, tiny_model, tmp_path,
                                                                               capsys):
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(volumes / "transformer_normal_000.tif", other)  # the same file name in another folder
    (tmp_path / "bad.tif").write_bytes((volumes / "transformer_defect_000.tif").read_bytes()[:3000])
    listing = tmp_path / "scans.txt"
    listing.write_text(f"# tonight's scans\n{volumes / 'transformer_defect_000.tif'}\n"
                       f"{volumes / 'transformer_normal_000.tif'}\nother/transformer_normal_000.tif\n\nbad.tif\n")
    runs = tmp_path / "runs"
    assert _batch(listing, model=tiny_model, runs=runs, extra=["--workers", "1"]) == 1
    rows = read_rows(runs)
    assert [r["status"] for r in rows] == ["done", "done", "done", "failed"]
    failed = rows[-1]
    assert failed["volume"] == str(tmp_path / "bad.tif") and "bad.tif" in failed["error"]
    assert "\n" not in failed["error"] and "truncated" in failed["error"]
    assert len({r["run"] for r in rows}) == 4  # two transformer_normal_000.tif, two run folders
    assert all(sorted(os.listdir(runs / r["run"])) == RUN_FILES for r in rows[:3])
    assert f"failed: {tmp_path / 'bad.tif'}:" in capsys.readouterr().err


@pytest.mark.parametrize("args,message", [
    (["missing.tif"], "missing.tif: no such file or folder"),
    (["--workers", "0"], "--workers must be at least 1"),
])
def test_bad_arguments_are_one_line_and_exit_2(volumes, tiny_model, tmp_path, capsys, args, message):
    inputs = [a for a in args if not a.startswith("-") and not a.isdigit()] or [str(volumes)]
    flags = [a for a in args if a not in inputs]
    code = main(["batch", *(str(tmp_path / i) if i == "missing.tif" else i for i in inputs), "--model",
                 str(tiny_model), "--out", str(tmp_path / "runs"), *flags])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.startswith("error: ") and "Traceback" not in err


def test_a_bad_model_is_exit_2_before_anything_is_scored(volumes, tmp_path, capsys):
    bad = tmp_path / "model"
    bad.mkdir()
    assert main(["batch", str(volumes), "--model", str(bad), "--out", str(tmp_path / "runs")]) == 2
    assert "model.json is missing" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()
