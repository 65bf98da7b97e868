"""score_volume: one result per ROI slice, heatmaps in place, the AnoGAN's depth per mode, cancel, run files."""
import csv
import json

import numpy as np
import pytest
from helpers_model import drain as _run

from ctreview.io import open_volume
from ctreview.model import load_model
from ctreview.progress import drain
from ctreview.results import SliceResult
from ctreview.roi import extract_roi, stitch
from ctreview.scoring import CSV_HEADER, ScoringSettings, run_scoring, score_volume, write_run
from ctreview.scoring.heatmap_file import read_heatmap


@pytest.fixture(scope="module")
def setup(tiny_model, tiny_data):
    model = load_model(tiny_model, "cpu")
    volume = open_volume(tiny_data / "transformer_defect_000.tif")
    roi = extract_roi(volume, "whole-part", tile_size=model.tile_size)
    return model, volume, roi


def _cfg(**kw):
    return ScoringSettings(**kw)


def test_fast_yields_one_result_per_roi_slice(setup):
    model, volume, roi = setup
    results, summary = _run(score_volume(volume, model, _cfg(mode="fast"), roi=roi))
    assert [r.index for r in results] == list(roi.slices)
    for r in results:
        assert isinstance(r, SliceResult) and r.stage == "fast"
        assert r.heatmap.shape == volume.shape[1:] and r.heatmap.dtype == np.float32
        outside = ~roi.slices[r.index].mask(volume.shape[1:])
        assert not r.heatmap[outside].any()
        assert len(r.tile_scores) == len(roi.slices[r.index].tiles)
        assert r.score == pytest.approx(float(r.tile_scores.max()))
        assert r.relative == pytest.approx(r.score / model.threshold_for("fast"))
        y0, x0, y1, x1 = r.tile_box  # a tile-sized box round the slice's peak
        cy, cx = np.unravel_index(int(np.argmax(r.heatmap)), r.heatmap.shape)
        assert y1 - y0 == x1 - x0 == model.tile_size and y0 <= cy < y1 and x0 <= cx < x1
    assert summary.mode == "fast" and summary.counts.tiles == sum(len(s.tiles) for s in roi.slices.values())
    assert not summary.cancelled


def test_each_mode_sets_the_anogan_scorers_depth_in_one_pass(setup):
    model, volume, roi = setup
    assert [_cfg(mode=m).search_depth for m in ("fast", "hybrid", "anogan")] == [0, None, 500]
    assert _cfg(mode="anogan", steps=7).search_depth == 7 and _cfg(mode="fast", anogan_steps=3).search_depth == 3
    fast, _ = _run(score_volume(volume, model, _cfg(mode="fast"), roi=roi))
    deep, summary = _run(score_volume(volume, model, _cfg(mode="anogan", steps=15), roi=roi))
    # one result per ROI slice either way, none superseded; the search changes the scores
    assert [r.index for r in deep] == [r.index for r in fast] == list(roi.slices)
    assert {r.stage for r in deep} == {"fast"}
    assert [r.score for r in deep] != [r.score for r in fast]
    assert summary.settings.search_depth == 15 and summary.counts.scored_slices == len(roi.slices)


def test_scoring_is_deterministic(setup):
    model, volume, roi = setup
    a, _ = _run(score_volume(volume, model, _cfg(mode="anogan", steps=10), roi=roi))
    b, _ = _run(score_volume(volume, model, _cfg(mode="anogan", steps=10), roi=roi))
    assert [r.score for r in a] == [r.score for r in b]
    np.testing.assert_array_equal(a[0].heatmap, b[0].heatmap)


def test_cancel_stops_the_stream(setup):
    model, volume, roi = setup
    seen = []
    stream = score_volume(volume, model, _cfg(mode="fast", batch_size=1), roi=roi,
                          should_stop=lambda: len(seen) >= 2)
    results = []
    while True:
        try:
            results.append(next(stream))
            seen.append(1)
        except StopIteration as stop:
            summary = stop.value
            break
    assert summary.cancelled
    # the stop is checked between batches of slices: the batch under way is finished, nothing more
    from ctreview.scoring.fused_pass import slices_per_batch

    scored_slices = [k for k, s in roi.slices.items() if s.tiles]
    assert 2 <= len(results) <= slices_per_batch(volume.shape) < len(scored_slices)
    assert len({r.index for r in results}) == len(results)


def test_run_folder_has_csv_heatmap_and_summary(setup, tmp_path):
    model, volume, roi = setup
    summary = drain(run_scoring(volume, model, _cfg(mode="anogan", steps=5), roi=roi,
                                out=tmp_path / "run"))
    with open(tmp_path / "run" / "scores.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:5] == ["slice", "score", "relative_score", "tile_y", "tile_x"]
    assert rows[0] == CSV_HEADER
    assert [int(r[0]) for r in rows[1:]] == list(roi.slices)  # one row per ROI slice
    assert all(float(r[7]) > 0 for r in rows[1:])  # paper score column filled
    heat = read_heatmap(tmp_path / "run" / "heatmap.tif")
    assert heat.shape == volume.shape and heat.dtype == np.float32
    no_roi = [k for k in range(volume.shape[0]) if k not in roi.slices]
    assert not heat[no_roi].any()
    saved = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert saved["mode"] == "anogan" and saved["counts"] == summary.to_dict()["counts"]
    assert saved["settings"] == summary.settings.to_dict() and saved["settings"]["search_steps"] == 5
    assert saved["threshold"] > 0 and "total_s" in saved["timings"]


def test_write_run_from_a_list(setup, tmp_path):
    model, volume, roi = setup
    results, summary = _run(score_volume(volume, model, _cfg(mode="fast"), roi=roi))
    write_run(tmp_path / "r", volume.shape, results, summary)
    assert (tmp_path / "r" / "scores.csv").read_text().count("\n") == len(results) + 1


def test_stitch_blends_overlaps_and_masks():
    maps = np.stack([np.ones((4, 4)), 3 * np.ones((4, 4))]).astype(np.float32)
    mask = np.ones((6, 8), bool)
    mask[:, 7] = False
    out = stitch(maps, [(0, 0), (0, 2)], (6, 8), mask, sigma=0)
    assert out[1, 1] == pytest.approx(1) and out[1, 5] == pytest.approx(3)  # one tile: its own value
    assert 1 < out[1, 2] < 2 < out[1, 3] < 3  # overlap: each tile counts most where it sees the middle
    assert 0 < out[0, 0] < 1  # a lone tile's corner fades
    assert out[5, 0] == 0 and out[0, 7] == 0


def test_unknown_mode_is_a_user_error(setup):
    from ctreview.errors import CtreviewError

    with pytest.raises(CtreviewError):
        ScoringSettings(mode="magic")


def test_large_slices_go_through_the_scorers_a_few_at_a_time():
    from ctreview.scoring.fused_pass import SLICES_PER_BATCH, slices_per_batch

    assert slices_per_batch((64, 128, 128)) == SLICES_PER_BATCH
    assert slices_per_batch((512, 512, 512)) == 2
    assert slices_per_batch((10, 4096, 4096)) == 1
