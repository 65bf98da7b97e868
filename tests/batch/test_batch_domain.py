"""A batch says which volumes are outside the model's domain, and ranks them after the comparable ones."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctreview.batch import BatchRow, read_table
from ctreview.batch.events import rank_key
from ctreview.batch.worklist import batch_worklist, workspace_worklist
from ctreview.cli import main
from ctreview.io import write_tiff
from ctreview.phantom import make_phantom
from tests.batch.batch_helpers import read_rows


@pytest.fixture(scope="module")
def mixed(volumes, tmp_path_factory) -> list[Path]:
    """The three transformer phantoms of ``volumes`` and one capacitor: another part for the tiny model."""
    p = make_phantom("capacitor", size=96, slices=24, seed=31)
    capacitor = write_tiff(tmp_path_factory.mktemp("other") / "capacitor.tif", p.volume, spacing=p.spacing)
    return [*sorted(volumes.glob("*.tif")), capacitor]


def test_the_out_of_domain_volume_is_listed_with_its_verdict_after_the_others(mixed, tiny_model, tmp_path,
                                                                              capsys):
    runs = tmp_path / "runs"
    ws = tmp_path / "ws.sqlite"
    assert main(["batch", *map(str, mixed), "--model", str(tiny_model), "--out", str(runs), "--mode", "fast",
                 "--workers", "1", "--workspace", str(ws)]) == 0
    rows = read_rows(runs)
    assert [Path(r["volume"]).name for r in rows][-1] == "capacitor.tif"
    assert rows[-1]["domain"] == "outside" and "training domain" in rows[-1]["domain_reason"]
    inside = rows[:-1]
    assert all(r["domain"] == "inside" and r["domain_reason"] == "" for r in inside)
    worst = [float(r["worst"]) for r in inside]
    assert worst == sorted(worst, reverse=True)  # the comparable ones stay worst first
    summary = json.loads((runs / rows[-1]["run"] / "summary.json").read_text())
    assert summary["domain"]["verdict"] == "outside"

    document = json.loads((runs / "batch.json").read_text())
    assert document["domain"] == {"inside": 3, "outside": 1}
    assert [v["domain"] for v in document["volumes"]] == ["inside"] * 3 + ["outside"]
    out = capsys.readouterr()
    line = next(x for x in out.err.splitlines() if "capacitor.tif" in x)
    assert "OUTSIDE the model's training domain, not comparable" in line
    assert "1 outside the model's training domain, ranked last" in out.out
    assert "capacitor" not in out.out.split("worst:")[1].split(";")[0]  # the worst named is a comparable one

    items = batch_worklist(runs)
    assert [Path(i.volume).name for i in items] == [Path(r["volume"]).name for r in rows]
    assert items[-1].domain == "outside" and items[-1].domain_reason == rows[-1]["domain_reason"]
    from ctreview.review import open_workspace

    workspace = open_workspace(ws)
    try:
        listed = workspace_worklist(workspace)  # File > Open batch… > Workspace volumes: the same order
    finally:
        workspace.close()
    assert [Path(i.volume).name for i in listed] == [Path(r["volume"]).name for r in rows]
    assert [i.domain for i in listed] == ["inside"] * 3 + ["outside"]


def test_outside_the_domain_ranks_after_every_comparable_score_but_before_failures():
    rows = [BatchRow("a", "a", status="done", worst=0.4, domain="inside"),
            BatchRow("b", "b", status="done", worst=9.0, domain="outside"),
            BatchRow("c", "c", status="skipped", worst=2.0, domain="many slices above threshold"),
            BatchRow("d", "d", status="failed"),
            BatchRow("e", "e", status="done", worst=1.1),  # a table written before verdicts: comparable
            BatchRow("f", "f", status="done", worst=3.0, domain="outside")]
    assert [r.run for r in sorted(rows, key=rank_key)] == ["c", "e", "a", "b", "f", "d"]  # outside ones: worst first


def test_a_table_written_before_verdicts_still_reads(tmp_path):
    old = {"format": "ctreview-batch", "version": 1, "volumes": [
        {"volume": "/x/a.tif", "run": "a", "status": "done", "worst": 1.5},
        {"volume": "/x/b.tif", "run": "b", "status": "done", "worst": 2.5}]}
    (tmp_path / "batch.json").write_text(json.dumps(old))
    rows, _ = read_table(tmp_path)
    assert [r.run for r in rows] == ["b", "a"] and all(r.domain == "" and r.comparable for r in rows)
