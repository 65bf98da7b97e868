"""A worker killed mid-volume is retried; a stopped batch leaves a table a rerun resumes from; Ctrl+C."""
from __future__ import annotations

import json
import os
import signal

import pytest

from ctreview.batch import BatchStopping, VolumeDone, VolumeRetried, run_batch
from ctreview.batch.task import CRASH_MARKER, CRASH_VOLUME
from ctreview.cli import main
from ctreview.progress import drain
from ctreview.scoring import ScoringSettings
from tests.batch.batch_helpers import read_rows, score_reference


def _crash_on(monkeypatch, name: str, marker) -> None:
    """The task of volume ``name`` kills its worker process mid-volume, once (recorded in ``marker``)."""
    monkeypatch.setenv(CRASH_VOLUME, name)
    monkeypatch.setenv(CRASH_MARKER, str(marker))


def test_a_worker_killed_mid_volume_is_retried_on_a_new_worker_and_nothing_is_lost(volumes, tiny_model, tmp_path,
                                                                                 monkeypatch, capsys):
    marker = tmp_path / "crashed"
    _crash_on(monkeypatch, "transformer_defect_001.tif", marker)
    runs = tmp_path / "runs"
    code = main(["batch", str(volumes), "--model", str(tiny_model), "--out", str(runs), "--mode", "fast",
                 "--workers", "2", "--retries", "2"])
    assert code == 0
    assert marker.is_file() and int(marker.read_text()) != os.getpid()  # a worker process died, not us
    assert "retrying" in capsys.readouterr().err
    rows = read_rows(runs)
    assert [r["status"] for r in rows] == ["done"] * 3
    crashed = next(r for r in rows if r["volume"].endswith("transformer_defect_001.tif"))
    ref = score_reference(crashed["volume"], tiny_model, tmp_path / "ref")
    assert (runs / crashed["run"] / "scores.csv").read_text() == (ref / "scores.csv").read_text()
    listed = {v["run"]: v for v in json.loads((runs / "batch.json").read_text())["volumes"]}
    assert listed[crashed["run"]]["attempts"] >= 2


def test_a_volume_whose_worker_dies_more_often_than_retries_allow_is_a_failed_row(volumes, tiny_model, tmp_path,
                                                                                   monkeypatch):
    _crash_on(monkeypatch, "transformer_normal_000.tif", tmp_path / "crashed")
    runs = tmp_path / "runs"
    events = []
    summary = drain(run_batch([volumes / "transformer_normal_000.tif", volumes / "transformer_defect_000.tif"],
                              tiny_model, ScoringSettings(mode="fast"), runs, workers=1, retries=0), events.append)
    assert not any(isinstance(e, VolumeRetried) for e in events)
    rows = {os.path.basename(r["volume"]): r for r in read_rows(runs)}
    assert rows["transformer_normal_000.tif"]["status"] == "failed"
    assert "worker process died" in rows["transformer_normal_000.tif"]["error"]
    assert rows["transformer_defect_000.tif"]["status"] == "done"  # the pool was rebuilt for it
    assert summary.totals["failed"] == 1


def test_a_stopped_batch_leaves_a_table_that_a_rerun_resumes_from(volumes, tiny_model, tmp_path):
    runs = tmp_path / "runs"
    events: list = []

    def stop() -> bool:  # as Ctrl+C would: once the first volume is in
        return any(isinstance(e, VolumeDone) for e in events)

    summary = drain(run_batch([volumes], tiny_model, ScoringSettings(mode="fast"), runs, workers=1,
                              should_stop=stop), events.append)
    assert summary.stopped and any(isinstance(e, BatchStopping) for e in events)
    assert sorted(r["status"] for r in read_rows(runs)) == ["done", "pending", "pending"]
    first = next(r for r in read_rows(runs) if r["status"] == "done")

    again = drain(run_batch([volumes], tiny_model, ScoringSettings(mode="fast"), runs, workers=1))
    assert not again.stopped
    statuses = {r["run"]: r["status"] for r in read_rows(runs)}
    assert statuses.pop(first["run"]) == "skipped" and sorted(statuses.values()) == ["done", "done"]


def test_ctrl_c_first_stops_submitting_then_interrupts():
    from ctreview.cli.batch_cmd import _StopOnCtrlC

    before = signal.getsignal(signal.SIGINT)
    stop = _StopOnCtrlC()
    with stop:
        assert not stop()
        os.kill(os.getpid(), signal.SIGINT)
        assert stop()  # running volumes finish, nothing more is submitted
        with pytest.raises(KeyboardInterrupt):  # the second one cancels them
            os.kill(os.getpid(), signal.SIGINT)
            signal.getsignal(signal.SIGINT)  # the handler runs between two bytecodes
    assert signal.getsignal(signal.SIGINT) is before
