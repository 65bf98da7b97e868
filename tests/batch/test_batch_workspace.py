"""`ctreview batch --workspace`: the client records every finished run, so the window opens it without rescoring."""
from __future__ import annotations

import json

import numpy as np
import pytest

from ctreview.cli import main
from ctreview.review import open_workspace
from ctreview.scoring.heatmap_file import read_heatmap
from tests.batch.batch_helpers import read_rows


def test_finished_runs_are_recorded_in_the_workspace_once(volumes, tiny_model, tmp_path):
    runs, ws_path = tmp_path / "runs", tmp_path / "ws.sqlite"
    args = ["batch", str(volumes), "--model", str(tiny_model), "--out", str(runs), "--mode", "fast",
            "--workers", "1", "--workspace", str(ws_path)]
    assert main(args) == 0
    workspace = open_workspace(ws_path)
    try:
        for row in read_rows(runs):
            run_dir = runs / row["run"]
            volume_id = workspace.find_fingerprint(row["fingerprint"])
            assert volume_id is not None and workspace.volume_info(volume_id)["path"] == row["volume"]
            (run,) = workspace.runs(volume_id)
            assert run["finished_at"] and run["settings"]["mode"] == "fast"
            assert run["summary"] == json.loads((run_dir / "summary.json").read_text())
            assert workspace.model_info(run["model_id"])["path"] == str(tiny_model)
            scores = workspace.run_scores(run["id"])
            csv_rows = (run_dir / "scores.csv").read_text().splitlines()[1:]
            assert [s.index for s in scores] == [int(line.split(",")[0]) for line in csv_rows]
            assert max(s.relative for s in scores) == pytest.approx(float(row["worst"]))
            assert all(s.boxes for s in scores)  # the ROI boxes came along from the worker
            heat = read_heatmap(run_dir / "heatmap.tif")
            top = max(scores, key=lambda s: s.relative)
            stored = workspace.heatmap(run["id"], top.index)
            span = float(heat[top.index].max() - min(0.0, heat[top.index].min()))
            np.testing.assert_allclose(stored, heat[top.index], atol=span / 255 + 1e-6)
            assert top.heat_max == pytest.approx(float(heat[top.index].max()))
    finally:
        workspace.close()
    assert main(args) == 0  # a rerun skips every volume and records nothing twice
    with open_workspace(ws_path) as workspace:
        assert [len(workspace.runs(v["id"])) for v in workspace.volumes()] == [1, 1, 1]
