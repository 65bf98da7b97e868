"""Decisions mean what the analyst did: one slice decides one slice; a defect's decision is made on it,
agreed by all its slices, or carried from the same object in another run."""
import json

import numpy as np
from review_data import compute_results, open_test_volume

from ctreview.cli import main
from ctreview.defects import defect_note, find_defects
from ctreview.review import Workspace


def _run(ws, volume, boxes):
    """A finished run of ``volume`` whose defects are the given (z0, z1, y0, y1, x0, x1) boxes."""
    results, threshold = compute_results(volume)
    volume_id = ws.add_volume(volume)
    model_id = ws.add_model("numpy-median-model", {"name": "median", "threshold": threshold, "tile_size": 16})
    run_id = ws.start_run(volume_id, model_id, "fast", {}, "cpu")
    ws.add_results(run_id, results)
    heat = np.zeros(volume.shape, np.float32)
    for z0, z1, y0, y1, x0, x1 in boxes:
        heat[z0:z1, y0:y1, x0:x1] = 3.0
    defects = find_defects(heat, volume.spacing)
    ws.add_defects(run_id, defects)
    ws.finish_run(run_id, {"threshold": threshold})
    return volume_id, run_id, defects


def _report(volume_file, db, tmp_path, run=None):
    out = tmp_path / f"report-{run}.json"
    extra = ["--run", str(run)] if run else []
    assert main(["report", str(volume_file), "--json", str(out), "--workspace", str(db), *extra]) == 0
    return json.loads(out.read_text())


def test_a_flag_on_one_slice_flags_no_defect_spanning_other_slices(tmp_path, volume_file, capsys):
    db = tmp_path / "ws.sqlite"
    with Workspace(db) as ws, open_test_volume(volume_file) as volume:
        _run(ws, volume, [(2, 22, 20, 40, 20, 40)])
    assert main(["decide", str(volume_file), "--slice", "10", "--status", "flag", "--workspace", str(db)]) == 0
    report = _report(volume_file, db, tmp_path)
    [defect] = report["defects"]
    assert (defect["z0"], defect["z1"]) == (2, 22)
    assert (defect["decision"], defect["decision_from"]) == ("", "")  # one slice of twenty: undecided
    assert [r["decision"] for r in report["slices"] if r["slice"] == 10] == ["flag"]  # the slice is flagged
    pdf = tmp_path / "r.pdf"
    assert main(["report", str(volume_file), "--out", str(pdf), "--workspace", str(db)]) == 0
    assert "1 flagged" in capsys.readouterr().out  # one slice, and no defect


def test_all_slices_agreeing_decide_the_defect_and_the_report_says_so(tmp_path, volume_file):
    db = tmp_path / "ws.sqlite"
    with Workspace(db) as ws, open_test_volume(volume_file) as volume:
        volume_id, run_id, _ = _run(ws, volume, [(4, 7, 20, 30, 20, 30)])
        for k in (4, 5, 6):
            ws.decide(volume_id, k, "accept", run_id=run_id)
    [defect] = _report(volume_file, db, tmp_path)["defects"]
    assert (defect["decision"], defect["decision_from"]) == ("accept", "from its slices")


def test_a_later_run_carries_decisions_only_to_the_same_object(tmp_path, volume_file):
    db = tmp_path / "ws.sqlite"
    with Workspace(db) as ws, open_test_volume(volume_file) as volume:
        volume_id, first, [void] = _run(ws, volume, [(2, 5, 20, 30, 20, 30)])
        for k in void.slices:  # flagged on the defect, as the window's Shift+F records it
            ws.decide(volume_id, k, "flag", defect_note(void.id, "void"), run_id=first)
        # the rescored volume: the void again (a voxel larger), a new spot in the same slices, one elsewhere
        _, second, later = _run(ws, volume, [(2, 5, 20, 31, 20, 30), (2, 5, 44, 50, 44, 50),
                                             (15, 18, 30, 36, 30, 36)])
    first_report = _report(volume_file, db, tmp_path, first)
    assert [(d["decision"], d["decision_from"]) for d in first_report["defects"]] == [("flag", "made on the defect")]
    defects = {(d["z0"], d["y0"]): d for d in _report(volume_file, db, tmp_path, second)["defects"]}
    assert len(later) == 3 and len(defects) == 3
    assert (defects[2, 20]["decision"], defects[2, 20]["decision_from"]) == ("flag", f"carried from run {first}")
    assert defects[2, 44]["decision"] == "" and defects[15, 30]["decision"] == ""  # nobody reviewed them
