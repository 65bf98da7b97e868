"""Defects of a run: written by the scoring service to defects.csv, summary.json and the workspace."""
from __future__ import annotations

import csv
import json
import sqlite3

import numpy as np
import pytest

from ctreview.defects import CSV_COLUMNS, Defect, DefectSettings, defect_decision, defect_note, find_defects
from ctreview.review import SCHEMA_VERSION, open_workspace
from ctreview.scoring.heatmap_file import read_heatmap

REQUIRED = ["id", "z0", "z1", "y0", "y1", "x0", "x1", "centroid_z_mm", "centroid_y_mm", "centroid_x_mm",
            "voxels", "volume_mm3", "diameter_mm", "peak", "peak_slice"]


def _two_defects() -> list[Defect]:
    heat = np.zeros((12, 20, 20), np.float32)
    heat[2:5, 3:6, 3:6] = 1.4
    heat[7:10, 12:16, 10:14] = 2.5
    return find_defects(heat, (0.2, 0.1, 0.1))


def _volume(tmp_path):
    from ctreview.io import open_volume, write_tiff

    data = np.random.default_rng(0).integers(0, 1000, (12, 20, 20)).astype(np.uint16)
    return open_volume(write_tiff(tmp_path / "v.tif", data, spacing=(0.2, 0.1, 0.1)))


def test_defects_are_stored_in_and_read_back_from_the_workspace(tmp_path):
    defects = _two_defects()
    assert [d.rank for d in defects] == [1, 2] and defects[0].peak == pytest.approx(2.5)
    with open_workspace(tmp_path / "ws.sqlite") as ws, _volume(tmp_path) as volume:
        run = ws.start_run(ws.add_volume(volume), None, "fast", {}, "cpu")
        other = ws.start_run(ws.add_volume(volume), None, "fast", {}, "cpu")
        assert ws.run_defects(run) is None  # never found: an older run
        assert ws.add_defects(run, defects, DefectSettings().to_dict()) == 2
        ws.add_defects(other, [])
    with open_workspace(tmp_path / "ws.sqlite") as ws:
        assert ws.run_defects(run) == defects  # worst first, every field back
        assert ws.run_defects(other) == []  # found, none
        ws.add_defects(run, defects[1:])  # found again: replaces
        assert ws.run_defects(run) == defects[1:]


def test_a_version_2_workspace_migrates_and_keeps_its_runs(tmp_path):
    from ctreview.review import _schema

    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    for script in _schema.MIGRATIONS[:2]:
        for statement in _schema._statements(script):
            conn.execute(statement)
    conn.execute(f"PRAGMA application_id = {_schema.APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 2")
    conn.execute("INSERT INTO volumes (fingerprint, shape, spacing, added_at, opened_at) "
                 "VALUES ('f', '[1,2,3]', '[1,1,1]', 'now', 'now')")
    conn.execute("INSERT INTO runs (volume_id, mode, settings, device, started_at) "
                 "VALUES (1, 'fast', '{}', 'cpu', 'x')")
    conn.commit()
    conn.close()
    with open_workspace(path) as ws:
        assert ws.run_defects(1) is None
        ws.add_defects(1, _two_defects())
        assert len(ws.run_defects(1)) == 2
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_scoring_writes_defects_csv_summary_json_and_the_workspace(tiny_model, tiny_data, tmp_path):
    from ctreview.io import open_volume
    from ctreview.model import load_model
    from ctreview.progress import drain
    from ctreview.scoring import ScoringSettings, run_scoring

    model = load_model(tiny_model, "cpu")
    volume = open_volume(tiny_data / "transformer_defect_000.tif")
    loose = DefectSettings(seed=0.3, grow=0.2, min_voxels=2)  # a tiny model finds little above 1.0
    with open_workspace(tmp_path / "ws.sqlite") as ws:
        summary = drain(run_scoring(volume, model, ScoringSettings(mode="fast"), workspace=ws,
                                    out=tmp_path / "run", defects=loose))
        stored = ws.run_defects(summary.run_id)
    assert summary.defects and summary.defect_settings == loose
    assert stored == summary.defects
    heat = read_heatmap(tmp_path / "run" / "heatmap.tif")
    assert summary.defects == find_defects(heat, volume.spacing, loose)  # the run folder's heatmap, slab-wise
    with open(tmp_path / "run" / "defects.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[:len(REQUIRED)] == REQUIRED and tuple(rows[0]) == CSV_COLUMNS
    assert [int(r["id"]) for r in rows] == [d.id for d in summary.defects]  # worst first
    assert [float(r["peak"]) for r in rows] == sorted((float(r["peak"]) for r in rows), reverse=True)
    saved = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert [Defect.from_dict(d) for d in saved["defects"]] == summary.defects
    assert saved["files"]["defects"] == "defects.csv" and saved["defect_settings"] == loose.to_dict()
    # without a run folder the streamed voxels give the same objects (up to the heatmap cache's rounding)
    with open_workspace(tmp_path / "ws2.sqlite") as ws:
        again = drain(run_scoring(volume, model, ScoringSettings(mode="fast"), workspace=ws, defects=loose))
    assert len(again.defects) == len(summary.defects)
    for a, b in zip(again.defects, summary.defects):  # a voxel at the rounding step may move a face by one
        assert np.abs(np.subtract(a.box, b.box)).max() <= 1


def test_a_defect_decision_reads_its_slices_and_its_note_names_it():
    defect = _two_defects()[0]  # slices 7, 8, 9
    assert defect_decision(defect, {}) == ""
    accept = {"status": "accept"}
    assert defect_decision(defect, {7: accept, 8: accept}) == ""  # slice 9 not reviewed
    assert defect_decision(defect, {7: accept, 8: accept, 9: accept}) == "accept"
    # slices decided differently leave the defect undecided: one slice's decision is that slice's only
    assert defect_decision(defect, {7: accept, 8: {"status": "unsure"}, 9: accept}) == ""
    assert defect_decision(defect, {7: accept, 8: {"status": "unsure"}, 9: {"status": "flag"}}) == ""
    assert defect_note(3, "void near pin") == "defect 3: void near pin"
    assert defect_note(3) == "defect 3"
    assert defect_note(4, "defect 3: void near pin") == "defect 4: void near pin"
