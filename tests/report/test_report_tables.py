"""CSV and JSON reports agree with the workspace."""
import csv
import json

import pytest
from review_data import DEFECT_SLICES

from ctreview.errors import CtreviewError
from ctreview.report import COLUMNS, write_report


def test_csv_matches_the_store(reviewed):
    ws, volume_id, run_id = reviewed.workspace, reviewed.volume_id, reviewed.run_id
    ws.decide(volume_id, 5, "unsure", note="=1+1 looks, odd", reviewer="carol")
    path = reviewed.out / "scores.csv"
    write_report(ws, volume_id, csv=path)
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == COLUMNS
    scores, decisions = ws.run_scores(run_id), ws.decisions(volume_id)
    assert [int(r["slice"]) for r in rows] == [s.index for s in scores]
    for row, score in zip(rows, scores):
        assert float(row["score"]) == pytest.approx(score.score, rel=1e-5)
        assert float(row["relative_score"]) == pytest.approx(score.relative, rel=1e-5)
        decision = decisions.get(score.index)
        assert row["decision"] == (decision["status"] if decision else "")
        assert row["decided_at"] == (decision["decided_at"] if decision else "")
        assert row["reviewer"] == (decision["reviewer"] if decision else "")
    by_rank = sorted(rows, key=lambda r: int(r["rank"]))
    assert [int(r["rank"]) for r in by_rank] == list(range(1, len(rows) + 1))
    assert [float(r["relative_score"]) for r in by_rank] == sorted(
        (float(r["relative_score"]) for r in rows), reverse=True)
    assert {int(r["slice"]) for r in by_rank[:3]} == set(DEFECT_SLICES)
    assert rows[5]["note"] == "'=1+1 looks, odd"      # a formula is defused for spreadsheets


def test_json_report(reviewed):
    path = reviewed.out / "report.json"
    write_report(reviewed.workspace, reviewed.volume_id, reviewed.run_id, json=path)
    report = json.loads(path.read_text(encoding="utf-8"))
    n = reviewed.volume.shape[0]
    assert report["counts"] == {"scored": n, "above_threshold": len(DEFECT_SLICES),
                                "flagged": len(DEFECT_SLICES), "accepted": 2, "unsure": 0,
                                "unreviewed": n - len(DEFECT_SLICES) - 2}
    assert len(report["slices"]) == n and set(report["slices"][0]) == set(COLUMNS)
    assert sorted(f["slice"] for f in report["flagged"]) == sorted(DEFECT_SLICES)  # rank order
    assert report["volume"]["shape"] == list(reviewed.volume.shape)
    assert report["run"]["id"] == reviewed.run_id and report["threshold"] > 0


def test_unknown_or_foreign_run_is_refused(reviewed):
    with pytest.raises(CtreviewError, match="no scoring run"):
        write_report(reviewed.workspace, reviewed.volume_id, 999, csv=reviewed.out / "x.csv")
    other = reviewed.workspace.add_volume(type(reviewed.volume).from_array(
        reviewed.volume.read()[:4], spacing=(1, 1, 1)))
    with pytest.raises(CtreviewError, match="no scoring run"):
        write_report(reviewed.workspace, other, csv=reviewed.out / "x.csv")
    with pytest.raises(CtreviewError, match="belongs to another volume"):
        write_report(reviewed.workspace, other, reviewed.run_id, csv=reviewed.out / "x.csv")
    with pytest.raises(CtreviewError, match="no report file"):
        write_report(reviewed.workspace, reviewed.volume_id)
    assert not reviewed.out.exists()
