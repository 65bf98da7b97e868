"""ctreview train / score on a tiny phantom write the expected files."""
import csv
import json

from ctreview.cli import main
from ctreview.model import load_model


def test_cli_train_then_score(tiny_data, tmp_path, capsys):
    model_dir = tmp_path / "model"
    code = main(["train", str(tiny_data / "transformer_normal_000.tif"), "--out", str(model_dir),
                 "--tile-size", "32", "--latent-dim", "8", "--width", "4", "--epochs", "1",
                 "--encoder-epochs", "1", "--batch-size", "16", "--seed", "3",
                 "--anogan-iterations", "20", "--anogan-encoder-iterations", "10"])
    assert code == 0
    assert load_model(model_dir, "cpu").meta["training"]["seed"] == 3
    run = tmp_path / "run"
    code = main(["score", str(tiny_data / "transformer_defect_000.tif"), "--model", str(model_dir),
                 "--out", str(run), "--mode", "anogan", "--steps", "3", "--batch-size", "4", "--device", "cpu"])
    assert code == 0
    assert (run / "heatmap.tif").is_file()
    with open(run / "scores.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:5] == ["slice", "score", "relative_score", "tile_y", "tile_x"] and len(rows) > 2
    summary = json.loads((run / "summary.json").read_text())
    assert summary["mode"] == "anogan" and summary["device"] == "cpu" and summary["settings"]["batch_size"] == 4
    assert "scored" in capsys.readouterr().out


def test_cli_score_with_a_bad_model_is_one_line_error(tiny_data, tmp_path, capsys):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "model.json").write_text("{")
    code = main(["score", str(tiny_data / "transformer_defect_000.tif"), "--model", str(bad),
                 "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1


def test_cli_score_records_the_run_in_a_workspace_for_the_report(tiny_data, tiny_model, tmp_path, capsys):
    from ctreview.io import open_volume
    from ctreview.review import open_workspace

    volume_path = tiny_data / "transformer_defect_000.tif"
    ws_path = tmp_path / "ws.sqlite"
    run = tmp_path / "run"
    code = main(["score", str(volume_path), "--model", str(tiny_model), "--out", str(run),
                 "--workspace", str(ws_path), "--mode", "fast", "--device", "cpu"])
    assert code == 0
    assert f"in {ws_path}" in capsys.readouterr().out
    with open(run / "scores.csv", newline="") as fh:
        csv_scores = {int(r["slice"]): float(r["score"]) for r in csv.DictReader(fh)}
    with open_workspace(ws_path) as ws, open_volume(volume_path) as volume:
        volume_id = ws.find_volume(volume)
        run_id = ws.latest_run(volume_id)
        stored = {row.index: row.score for row in ws.run_scores(run_id)}
        assert ws.run_info(run_id)["mode"] == "fast"
        assert ws.heatmap(run_id, next(iter(stored))).shape == volume.shape[1:]
    assert stored.keys() == csv_scores.keys()
    assert all(abs(stored[k] - csv_scores[k]) <= 1e-5 * max(1.0, abs(stored[k])) for k in stored)
    # the report reads the run straight from the workspace, no re-scoring
    pdf = tmp_path / "report.pdf"
    assert main(["report", str(volume_path), "--workspace", str(ws_path), "--out", str(pdf)]) == 0
    assert pdf.read_bytes()[:4] == b"%PDF"


def test_cli_score_without_a_destination_is_one_line_error(tiny_data, tiny_model, capsys):
    code = main(["score", str(tiny_data / "transformer_defect_000.tif"), "--model", str(tiny_model)])
    err = capsys.readouterr().err
    assert code != 0 and err.startswith("error: ") and "--out" in err and err.count("\n") == 1
