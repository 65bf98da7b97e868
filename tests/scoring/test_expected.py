"""The slice the model expected (the AnoGAN's reconstruction): in each result, in the workspace, in the report."""
from __future__ import annotations

import numpy as np
from helpers_model import drain

from ctreview.io import open_volume
from ctreview.model import load_model
from ctreview.results import SliceResult
from ctreview.review import open_workspace
from ctreview.scoring import ScoringSettings, run_scoring


def _score(model_dir, volume_path, workspace):
    model = load_model(model_dir, "cpu")
    volume = open_volume(volume_path)
    events, summary = drain(run_scoring(volume, model, ScoringSettings(mode="fast"), workspace=workspace))
    _score.roi = next(e.roi for e in events if not isinstance(e, SliceResult))
    return volume, [e for e in events if isinstance(e, SliceResult)], summary


def test_a_model_with_an_anogan_draws_the_slice_it_expected(tiny_anogan_detector, tiny_data, tmp_path):
    lo, hi = load_model(tiny_anogan_detector, "cpu").scorers["anogan"].window
    with open_workspace(tmp_path / "ws.sqlite") as ws:
        volume, results, summary = _score(tiny_anogan_detector, tiny_data / "transformer_normal_000.tif", ws)
        assert results
        # grey values the generator can draw (its training window), following the scan (a tiny GAN: loosely)
        scan = np.concatenate([volume.slice(r.index)[r.expected != 0] for r in results]).astype(np.float32)
        drawn = np.concatenate([r.expected[r.expected != 0] for r in results])
        assert lo - 1e-3 <= drawn.min() and drawn.max() <= hi + 1e-3
        assert np.corrcoef(scan, drawn)[0, 1] > 0.3
        for r in results[::3]:
            scan = volume.slice(r.index).astype(np.float32)
            inside = _score.roi.slices[r.index].mask(scan.shape)
            assert r.expected is not None and r.expected.shape == scan.shape
            assert not r.expected[~inside].any()  # nothing drawn outside the ROI
            drawn, seen = r.expected != 0, np.zeros(scan.shape, bool)
            for y, x in _score.roi.slices[r.index].tiles:  # drawn where the model's tiles see the ROI
                seen[y:y + _score.roi.tile_size, x:x + _score.roi.tile_size] = True
            assert np.array_equal(drawn, seen & inside) and np.isfinite(r.expected).all()
            # stored with the run, within the cache's 8-bit steps
            kept = ws.expected(summary.run_id, r.index)
            span = float(r.expected.max() - min(0.0, r.expected.min()))
            np.testing.assert_allclose(kept, r.expected, atol=span / 255 * 0.51 + 1e-6)


def test_a_model_without_one_draws_none_and_stores_none(tiny_detector, tiny_data, tmp_path):
    with open_workspace(tmp_path / "ws.sqlite") as ws:
        _, results, summary = _score(tiny_detector, tiny_data / "transformer_normal_000.tif", ws)
        assert results and all(r.expected is None for r in results)
        assert ws.expected(summary.run_id, results[0].index) is None


def test_the_report_shows_scan_expected_anomaly_for_a_flagged_slice(tiny_anogan_detector, tiny_data, tmp_path):
    from ctreview.report import write_report
    from tests.report.pdf_pixels import red_mask, render

    with open_workspace(tmp_path / "ws.sqlite") as ws:
        volume, results, summary = _score(tiny_anogan_detector, tiny_data / "transformer_defect_000.tif", ws)
        top = max(results, key=lambda r: r.relative)
        volume_id = ws.run_info(summary.run_id)["volume_id"]
        ws.decide(volume_id, top.index, "flag", note="test", reviewer="tester")
        write_report(ws, volume_id, summary.run_id, pdf=tmp_path / "report.pdf", volume=volume)
    pages = render(tmp_path / "report.pdf", scale=1.0)
    text = "\n".join(t for _, t in pages)
    assert f"Slice {top.index}" in text and "Scan | expected" in text
    flagged = next(rgb for rgb, t in pages if f"Slice {top.index}" in t)
    assert red_mask(flagged).sum() > 20
