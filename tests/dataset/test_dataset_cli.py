"""``ctreview dataset export|info|prune`` and ``ctreview train SET_DIR`` through the real CLI."""
from __future__ import annotations

import json

import numpy as np
import pytest

from ctreview.cli import main
from ctreview.dataset import TrainingSet, load_training_tiles


@pytest.fixture
def small_set(tmp_path):
    out = tmp_path / "set"
    tset = TrainingSet.open_or_create(out)
    rng = np.random.default_rng(0)
    for k, name in enumerate(("a.tif", "b.tif")):
        tiles = rng.integers(0, 4000, (6, 8, 8)).astype(np.uint16)
        recs = [{"slice": 10 * k + i // 2, "tile_box": [0, 8 * (i % 2), 8, 8 * (i % 2) + 8]}
                for i in range(6)]
        tset.append({"fingerprint": f"v1:{k}{'0' * 31}", "name": name, "path": None}, tiles, recs)
    return out


def test_info_prints_text_and_json(small_set, capsys):
    assert main(["dataset", "info", str(small_set)]) == 0
    text = capsys.readouterr().out
    assert "12 tiles of 8x8 uint16, 2 sources" in text and "slices 0-2" in text
    assert main(["dataset", "info", str(small_set), "--json", "--tiles"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["tiles"] == 12 and len(info["tile_list"]) == 12
    assert info["sources"][1]["slices"] == [10, 11, 12]


def test_prune_by_tiles_source_and_slices(small_set, capsys):
    before = load_training_tiles(small_set)
    assert main(["dataset", "prune", str(small_set), "--tiles", "0,2-3"]) == 0
    assert "removed 3 tiles" in capsys.readouterr().out
    np.testing.assert_array_equal(load_training_tiles(small_set), np.delete(before, [0, 2, 3], 0))
    assert main(["dataset", "prune", str(small_set), "--source", "b.tif", "--slices", "11"]) == 0
    assert main(["dataset", "prune", str(small_set), "--source", "v1:0"]) == 0
    assert load_training_tiles(small_set).shape[0] == 4


@pytest.mark.parametrize("argv, message", [
    (["prune", "{set}"], "say what to remove"),
    (["prune", "{set}", "--tiles", "99"], "no tile with index 99"),
    (["prune", "{set}", "--source", "nope"], "no source matches"),
])
def test_prune_mistakes_are_one_line_errors(small_set, capsys, argv, message):
    argv = [a.format(set=small_set) for a in argv]
    assert main(["dataset", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_broken_manifest_is_one_line_naming_the_file(tmp_path, capsys):
    (tmp_path / "manifest.json").write_text('{"format": "ctreview-training-set", "version": 1')
    assert main(["dataset", "info", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {tmp_path / 'manifest.json'}: ")
    assert main(["dataset", "info", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_export_with_score_run_folders_then_train_from_the_set(reviewed, tmp_path, capsys):
    """The command-line loop: score into run folders, export with --run, train on the set."""
    from ctreview.model import load_model

    runs = []
    for vol in reviewed.volumes:
        run_dir = tmp_path / "runs" / vol.stem
        assert main(["score", str(vol), "--model", str(reviewed.model), "--out", str(run_dir),
                     "--mode", "fast", "--device", "cpu"]) == 0
        runs += ["--run", str(run_dir)]
    out = tmp_path / "set"
    argv = ["dataset", "export", *map(str, reviewed.volumes), *runs, "--out", str(out),
            "--workspace", str(reviewed.workspace), "--json"]
    capsys.readouterr()
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    for src, vid in zip(summary["sources"], reviewed.volume_ids):
        # the run folder's scores guard the notion of normal like the workspace's run does
        assert sorted(int(z) for z in src["above_threshold"]) == reviewed.above(vid)
        assert sorted(src["slices"]) == sorted(set(reviewed.accepted[vid]) - set(reviewed.above(vid)))
        assert src["run"]["run_dir"].endswith(f"runs/{reviewed.volumes[reviewed.volume_ids.index(vid)].stem}")
    n = summary["total"]
    assert n > 0

    model_dir = tmp_path / "model"
    assert main(["train", str(out), "--out", str(model_dir), "--engine", "anogan", "--tile-size", "32",
                 "--epochs", "1", "--latent-dim", "16", "--width", "8", "--batch-size", "32",
                 "--device", "cpu"]) == 0
    model = load_model(model_dir, device="cpu")
    assert model.tile_size == 32 and model.meta["data"]["tiles"] == n
    # the sources are still on disk: z-contrast is calibrated on their exported slices only
    assert model.statistic == "z-contrast"
    exported = sum(len(src["slices"]) for src in summary["sources"])
    assert model.meta["calibration"]["contrast"]["slices"] == exported


def test_train_from_a_set_whose_sources_are_gone_keeps_the_tile_statistic(reviewed, tmp_path):
    import shutil

    from ctreview.model import load_model
    from ctreview.training import train

    volumes = []
    for vol in reviewed.volumes:  # a copy of the reviewed volumes that then disappears
        volumes.append(tmp_path / "moved" / vol.name)
        volumes[-1].parent.mkdir(exist_ok=True)
        shutil.copy(vol, volumes[-1])
    out = tmp_path / "set"
    assert main(["dataset", "export", *map(str, volumes), "--out", str(out),
                 "--workspace", str(reviewed.workspace)]) == 0
    shutil.rmtree(tmp_path / "moved")
    model_dir = train([out], tmp_path / "model", tile_size=32, latent_dim=16, width=8, batch_size=32,
                      epochs=1, encoder_epochs=1, device="cpu")
    model = load_model(model_dir, device="cpu")
    assert model.statistic == "tile" and "contrast" not in model.meta["calibration"]


def test_cli_export_warns_about_above_threshold_slices(reviewed, tmp_path, capsys):
    argv = ["dataset", "export", *map(str, reviewed.volumes), "--out", str(tmp_path / "set"),
            "--workspace", str(reviewed.workspace)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    above = [z for vid in reviewed.volume_ids for z in reviewed.above(vid)]
    assert above and "warning:" in captured.err and "--include-above-threshold" in captured.err
    assert "flagged/unsure refused" in captured.out


@pytest.mark.slow
def test_the_fused_engine_trains_on_a_sets_accepted_slices_of_its_source_volumes(reviewed, tmp_path):
    from ctreview.model import load_model

    out = tmp_path / "set"
    assert main(["dataset", "export", *map(str, reviewed.volumes), "--out", str(out),
                 "--workspace", str(reviewed.workspace)]) == 0
    model_dir = tmp_path / "fused"
    assert main(["train", str(out), "--out", str(model_dir), "--tile-size", "32", "--head-iterations", "20",
                 "--device", "cpu"]) == 0
    model = load_model(model_dir, device="cpu")
    meta = model.meta
    assert meta["format_version"] == 2 and meta["data"]["sources"]
    used = sum(d["slices"] for d in meta["data"]["fit"] + meta["data"]["calibration"])
    exported = {int(r["slice"]) for r in json.loads((out / "manifest.json").read_text())["tiles"]}
    accepted = sum(len(set(reviewed.accepted[v]) - set(reviewed.above(v))) for v in reviewed.volume_ids)
    assert 0 < used <= accepted and exported       # only slices the labeler accepted (and the set kept)
