"""The report lists the run's 3D defects (PDF, CSV, JSON) and shows the flagged ones in three planes."""
import csv
import json

import numpy as np
import pytest
from pdf_pixels import red_mask, render

from ctreview.defects import find_defects
from ctreview.report import write_report


def _add_defects(reviewed):
    """The void of the fixture (slices 10-12, flagged there) and a second, unreviewed defect."""
    heat = np.zeros(reviewed.volume.shape, np.float32)
    heat[10:13, 28:36, 30:38] = 3.0
    heat[2:4, 14:18, 40:46] = 1.5
    defects = find_defects(heat, reviewed.volume.spacing)
    reviewed.workspace.add_defects(reviewed.run_id, defects)
    return defects


def test_the_report_lists_defects_and_pictures_the_flagged_one(reviewed):
    defects = _add_defects(reviewed)
    assert [d.box for d in defects] == [(10, 13, 28, 36, 30, 38), (2, 4, 14, 18, 40, 46)]
    out = reviewed.out
    data = write_report(reviewed.workspace, reviewed.volume_id, pdf=out / "r.pdf", csv=out / "r.csv",
                        json=out / "r.json", volume=reviewed.volume)
    assert [(d["id"], d["decision"]) for d in data.defects] == [(2, "flag"), (1, "")]  # by rank
    with open(out / "r_defects.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["id"], r["rank"], r["decision"]) for r in rows] == [("2", "1", "flag"), ("1", "2", "")]
    worst = defects[0]
    assert float(rows[0]["centroid_z_mm"]) == pytest.approx(worst.centroid_z_mm)
    assert float(rows[0]["volume_mm3"]) == pytest.approx(worst.volume_mm3, rel=1e-5)
    assert float(rows[0]["diameter_mm"]) == pytest.approx(worst.diameter_mm, rel=1e-5)
    report = json.loads((out / "r.json").read_text(encoding="utf-8"))
    assert [d["id"] for d in report["defects"]] == [2, 1] and report["defects"][0]["decision"] == "flag"
    assert report["defects"][0]["centroid_y_mm"] == pytest.approx(worst.centroid_y_mm)
    pages = render(out / "r.pdf")
    text = "".join(t for _, t in pages).replace("\r", "")
    assert "3D defects (2)" in text and "flagged" in text
    assert "Defect 2 (rank 1): slices 10–12" in text  # the flagged one, in three planes
    assert all(name in text for name in ("axial (z = 10)", "XZ (y = 28)", "YZ (x = 30)"))
    assert "Defect 1 (rank 2)" not in text  # an unreviewed defect is listed, not pictured
    last = pages[-1][0]
    assert red_mask(last).sum() > 100  # the heatmap in the crops
    assert data.notes == []


def test_a_run_without_stored_defects_reports_as_before(reviewed):
    out = reviewed.out
    data = write_report(reviewed.workspace, reviewed.volume_id, csv=out / "r.csv", json=out / "r.json")
    assert data.defects is None
    assert "defects" not in json.loads((out / "r.json").read_text(encoding="utf-8"))
    assert not (out / "r_defects.csv").exists()
