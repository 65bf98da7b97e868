"""End to end: a phantom scored by a real (tiny, seeded) model, recorded, reviewed, reported."""
import csv

import numpy as np
import pytest

pytest.importorskip("ctreview.scoring")


def _score(workspace, volume, model):
    from helpers_model import drain

    from ctreview.results import SliceResult
    from ctreview.scoring import ScoringSettings, run_scoring

    events, summary = drain(run_scoring(volume, model, ScoringSettings(mode="fast"), workspace=workspace))
    return [e for e in events if isinstance(e, SliceResult)], summary


@pytest.mark.slow
def test_phantom_scored_recorded_and_reported(tmp_path):
    from helpers_model import tiny_phantom_volumes, train_tiny_model
    from pdf_pixels import red_mask as _red
    from pdf_pixels import render as _render

    from ctreview.io import open_volume
    from ctreview.model import load_model
    from ctreview.report import write_report
    from ctreview.review import Workspace

    model_dir = train_tiny_model(tmp_path / "model", epochs=3)
    path, = tiny_phantom_volumes(tmp_path / "scans", normal=0, defective=1, seed=3)
    model = load_model(model_dir, device="cpu")
    with open_volume(path) as volume, Workspace(tmp_path / "ws.sqlite") as ws:
        results, summary = _score(ws, volume, model)   # recorded while streamed
        run_id = summary.run_id
        volume_id = ws.run_info(run_id)["volume_id"]
        assert ws.run_info(run_id)["summary"]["threshold"] == pytest.approx(summary.threshold)
        latest = {r.index: r for r in results}          # a later result supersedes
        top = max(latest.values(), key=lambda r: r.score)
        low = min(latest.values(), key=lambda r: r.score)
        assert top.heatmap.max() > 0
        ws.decide(volume_id, top.index, "flag", note="top-ranked slice")
        ws.decide(volume_id, low.index, "accept")
        np.testing.assert_allclose(ws.heatmap(run_id, top.index), top.heatmap,
                                   atol=float(np.ptp(top.heatmap)) / 500 + 1e-6)
        pdf, table = tmp_path / "report.pdf", tmp_path / "scores.csv"
        data = write_report(ws, volume_id, pdf=pdf, csv=table)
    assert data.notes == [] and data.counts["scored"] == len(latest)
    assert data.threshold == pytest.approx(model.threshold, rel=1e-6)
    pages = _render(pdf)
    assert len(pages) == 2 and f"Slice {top.index}" in pages[1][1]
    assert _red(pages[1][0]).sum() > 50
    with open(table, newline="") as fh:
        rows = {int(r["slice"]): r for r in csv.DictReader(fh)}
    assert rows[top.index]["rank"] == "1" and rows[top.index]["decision"] == "flag"
    assert float(rows[top.index]["score"]) == pytest.approx(top.score, rel=1e-5)
    assert rows[low.index]["decision"] == "accept"
