"""Nothing the user made is replaced without --force: ``score --out`` into a used run folder."""
import json

from ctreview.cli import main

RUN_FILES = ("summary.json", "scores.csv", "heatmap.tif", "defects.csv")


def _score(volume, model, run, *extra):
    return main(["score", str(volume), "--model", str(model), "--out", str(run), "--mode", "fast",
                 "--device", "cpu", *extra])


def test_a_second_score_into_a_used_folder_is_refused_and_leaves_the_first_run_whole(tiny_data, tiny_model,
                                                                                       tmp_path, capsys):
    run = tmp_path / "run"
    first, other = tiny_data / "transformer_normal_000.tif", tiny_data / "transformer_defect_000.tif"
    assert _score(first, tiny_model, run) == 0
    before = {name: (run / name).read_bytes() for name in RUN_FILES}
    capsys.readouterr()

    assert _score(other, tiny_model, run) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {run}: a run of another volume ({first}) exists; use --force to replace it")
    assert err.count("\n") == 1
    assert _score(first, tiny_model, run) == 2  # the same volume and model again: said so, still refused
    err = capsys.readouterr().err
    assert "a run of this volume with this model" in err and "--force" in err and err.count("\n") == 1
    assert {name: (run / name).read_bytes() for name in RUN_FILES} == before


def test_force_replaces_the_run_and_the_summary_names_volume_and_model(tiny_data, tiny_model, tmp_path, capsys):
    run = tmp_path / "run"
    first, other = tiny_data / "transformer_normal_000.tif", tiny_data / "transformer_defect_000.tif"
    assert _score(first, tiny_model, run) == 0
    assert _score(other, tiny_model, run, "--force") == 0
    summary = json.loads((run / "summary.json").read_text())
    assert summary["volume"]["path"] == str(other) and summary["volume"]["fingerprint"].startswith("v1:")
    assert summary["model"]["path"] == str(tiny_model)


def test_score_says_the_model_it_picked_and_the_device_before_scoring(tiny_data, tmp_path, capsys):
    assert main(["score", str(tiny_data / "transformer_defect_000.tif"), "--out", str(tmp_path / "run"),
                 "--mode", "fast", "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    model = [line for line in err.splitlines() if line.startswith("model: ")]
    assert len(model) == 1 and "demo-transformer" in model[0] and "pass --model to choose" in model[0]
    device = err.index("device: cpu (1 thread)")
    assert err.index(model[0]) < device < err.index("scoring:")  # said before the long work


def test_a_model_given_is_not_announced_as_picked(tiny_data, tiny_model, tmp_path, capsys):
    assert _score(tiny_data / "transformer_defect_000.tif", tiny_model, tmp_path / "run") == 0
    err = capsys.readouterr().err
    assert "model: " not in err and "device: cpu (1 thread)" in err
