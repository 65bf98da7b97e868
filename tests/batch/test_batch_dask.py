"""`ctreview batch --scheduler`: the same volumes on a Dask LocalCluster give the scores `ctreview score` gives."""
from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from ctreview.batch.task import CRASH_MARKER, CRASH_VOLUME
from ctreview.cli import main
from ctreview.scoring.heatmap_file import read_heatmap
from tests.batch.batch_helpers import read_rows, score_reference

distributed = pytest.importorskip("distributed")


def test_a_dask_cluster_scores_like_ctreview_score_and_reruns_a_killed_workers_volume(volumes, tiny_model, tmp_path,
                                                                                    monkeypatch, capsys):
    marker = tmp_path / "crashed"
    monkeypatch.setenv(CRASH_VOLUME, "transformer_defect_000.tif")  # its first worker dies mid-volume
    monkeypatch.setenv(CRASH_MARKER, str(marker))
    runs = tmp_path / "runs"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None, silence_logs=logging.CRITICAL) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        code = main(["batch", str(volumes), "--model", str(tiny_model), "--out", str(runs), "--mode", "fast",
                     "--scheduler", cluster.scheduler_address])
    assert code == 0, capsys.readouterr().err
    assert marker.is_file()
    rows = read_rows(runs)
    assert [r["status"] for r in rows] == ["done"] * 3
    for row in rows:
        ref = score_reference(row["volume"], tiny_model, tmp_path / "ref" / row["run"])
        assert (runs / row["run"] / "scores.csv").read_text() == (ref / "scores.csv").read_text()
        np.testing.assert_array_equal(read_heatmap(runs / row["run"] / "heatmap.tif"),
                                      read_heatmap(ref / "heatmap.tif"))
    executor = json.loads((runs / "batch.json").read_text())["executor"]
    assert executor["kind"] == "dask" and executor["workers"] == 2
    assert executor["scheduler"] == cluster.scheduler_address
    assert all(n >= 1 for n in executor["threads_per_worker"].values())


def test_an_unreachable_scheduler_is_exit_2(volumes, tiny_model, tmp_path, capsys):
    code = main(["batch", str(volumes), "--model", str(tiny_model), "--out", str(tmp_path / "runs"),
                 "--scheduler", "tcp://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: tcp://127.0.0.1:9: cannot use the Dask scheduler")
