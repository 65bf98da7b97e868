"""The PDF report, rendered back to pixels and text with pypdfium2."""
import json

import numpy as np
import pytest
from pdf_pixels import red_mask as _red
from pdf_pixels import render as _render
from review_data import DEFECT_SLICES, make_array, write_tiff

from ctreview.errors import Cancelled
from ctreview.report import write_report


def test_summary_then_flagged_slices_with_red_heatmaps(reviewed):
    pdf = reviewed.out / "report.pdf"
    write_report(reviewed.workspace, reviewed.volume_id, pdf=pdf, volume=reviewed.volume)
    pages = _render(pdf)
    # summary page + 3 flagged blocks, two to a page
    assert len(pages) == 3
    for number, (_, text) in enumerate(pages, start=1):
        assert f"page {number} of 3" in text
    summary_rgb, summary_text = pages[0]
    for expected in ("scan_0042.tif", "v1:", "24 × 64 × 64", "median-deviation", "fast / cpu",
                     "alice, bob", "Flagged", "Score along z"):
        assert expected in summary_text
    # The summary's text area (title and tables) has no red; the plot below it may.
    assert _red(summary_rgb[: int(summary_rgb.shape[0] * 0.4)]).sum() == 0
    slice_text = pages[1][1] + pages[2][1]
    for k in DEFECT_SLICES:
        assert f"Slice {k}" in slice_text and f"void in slice {k}" in slice_text
    red = _red(pages[1][0])
    assert red.sum() > 200                       # the heatmap over the void
    ys, xs = np.nonzero(red)
    assert xs.max() < pages[1][0].shape[1] // 2  # in the picture column, left of the details


def test_no_flagged_slice_is_one_page(reviewed, tmp_path):
    for k in DEFECT_SLICES:
        reviewed.workspace.decide(reviewed.volume_id, k, "accept", reviewer="carol")
    pdf = tmp_path / "calm.pdf"
    write_report(reviewed.workspace, reviewed.volume_id, pdf=pdf, volume=reviewed.volume)
    (rgb, text), = _render(pdf)
    assert "No slice is flagged" in text and "page 1 of 1" in text


def test_missing_volume_file_is_reported_not_fatal(reviewed):
    reviewed.volume.close()
    reviewed.path.unlink()
    pdf, js = reviewed.out / "report.pdf", reviewed.out / "report.json"
    data = write_report(reviewed.workspace, reviewed.volume_id, pdf=pdf, json=js)
    assert data.notes and "cannot be opened" in data.notes[0]
    pages = _render(pdf)
    assert "cannot be opened" in pages[0][1].replace("\n", " ").replace("\r", "")
    assert "slice image not available" in pages[1][1]
    assert not any(_red(rgb).sum() for rgb, _ in pages[1:])
    assert "cannot be opened" in json.loads(js.read_text())["notes"][0]


def test_replaced_volume_file_is_not_drawn(reviewed, tmp_path):
    reviewed.volume.close()
    write_tiff(reviewed.path, make_array(seed=99))     # same name, other pixels
    data = write_report(reviewed.workspace, reviewed.volume_id, pdf=tmp_path / "r.pdf")
    assert any("no longer holds the scored volume" in note for note in data.notes)


def test_reopens_the_volume_from_its_path(reviewed, tmp_path):
    reviewed.volume.close()
    pdf = tmp_path / "r.pdf"
    data = write_report(str(reviewed.workspace.path), reviewed.volume_id, pdf=pdf)
    assert data.notes == []
    assert _red(_render(pdf)[1][0]).sum() > 200


def test_cancel_writes_nothing_and_keeps_the_old_report(reviewed):
    reviewed.out.mkdir()
    old = reviewed.out / "report.pdf"
    old.write_bytes(b"%PDF-old")
    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) > 1

    from ctreview.progress import drain
    from ctreview.report import iter_report

    with pytest.raises(Cancelled):
        drain(iter_report(reviewed.workspace, reviewed.volume_id, pdf=old, csv=reviewed.out / "r.csv",
                          volume=reviewed.volume, should_stop=should_stop))
    assert old.read_bytes() == b"%PDF-old"
    assert sorted(p.name for p in reviewed.out.iterdir()) == ["report.pdf"]


def test_progress_counts_up_to_its_total(reviewed, tmp_path):
    from ctreview.progress import drain
    from ctreview.report import iter_report

    seen = []
    drain(iter_report(reviewed.workspace, reviewed.volume_id, pdf=tmp_path / "r.pdf", volume=reviewed.volume),
          lambda step: seen.append((step.done, step.total)))
    total = seen[0][1]
    assert [d for d, _ in seen] == list(range(1, total + 1))
    assert total == len(DEFECT_SLICES) + 3


def test_user_text_is_escaped_and_home_shown_as_tilde(reviewed, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    reviewed.workspace.decide(reviewed.volume_id, 11, "flag", reviewer="eve\x1b[31m",
                              note="<b>crack</b> & =HYPERLINK(\"x\")\nline two")
    pdf, js = tmp_path / "r.pdf", tmp_path / "r.json"
    write_report(reviewed.workspace, reviewed.volume_id, pdf=pdf, json=js, volume=reviewed.volume)
    text = "".join(t for _, t in _render(pdf))
    assert "<b>crack</b> & =HYPERLINK" in text
    assert "~/scan_0042.tif" in text and str(tmp_path) not in text
    report = json.loads(js.read_text())
    assert report["volume"]["path"] == "~/scan_0042.tif"
    assert "eve[31m" in report["reviewers"]


def test_essay_notes_and_long_histories_still_lay_out(reviewed, tmp_path):
    ws, volume_id = reviewed.workspace, reviewed.volume_id
    ws.decide(volume_id, 11, "flag", note="word " * 3000 + "X" * 2000 + "\nline" * 300)
    for i in range(120):
        ws.decide(volume_id, 10, ("unsure", "flag")[i % 2], note=f"round {i}", reviewer="ann")
    pdf = tmp_path / "r.pdf"
    write_report(ws, volume_id, pdf=pdf, volume=reviewed.volume)
    text = " ".join(" ".join(t for _, t in _render(pdf, scale=0.3)).split())
    assert "full note in CSV/JSON" in text and "round 119" in text
