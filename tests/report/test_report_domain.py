"""The report's first page says when the run was outside the model's domain, and what loading found."""
from __future__ import annotations

from ctreview.cli import main
from ctreview.io import write_tiff
from ctreview.phantom import make_phantom


def _capacitor(folder):
    p = make_phantom("capacitor", size=96, slices=24, seed=31)
    return write_tiff(folder / "capacitor.tif", p.volume, spacing=p.spacing)


def test_the_report_states_it_on_its_first_page(tiny_model, tmp_path):
    capacitor_file = _capacitor(tmp_path)
    from pdf_pixels import render

    ws = tmp_path / "ws.sqlite"
    assert main(["score", str(capacitor_file), "--model", str(tiny_model), "--workspace", str(ws),
                 "--mode", "fast", "--device", "cpu"]) == 0
    pdf = tmp_path / "r.pdf"
    assert main(["report", str(capacitor_file), "--out", str(pdf), "--workspace", str(ws)]) == 0
    first = render(pdf)[0][1]
    assert "not trained for volumes like this one" in first and "OUTSIDE" in first
