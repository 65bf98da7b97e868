"""A scan finer than the model's training scans is binned to their scale and shown at full size."""
import numpy as np
import pytest
import tifffile
from helpers_model import drain as _run

from ctreview.io import open_volume
from ctreview.io.binned import binned, block_mean
from ctreview.model import load_model
from ctreview.scoring import ScoringSettings, run_scoring, score_volume
from ctreview.scoring.binning import binning_factors, model_part_size
from ctreview.scoring.stream import find_roi


@pytest.fixture(scope="module")
def scans(tiny_data, tmp_path_factory):
    """The tiny defective phantom and the same scan at twice the resolution on every axis (48 x 192 x 192)."""
    small = open_volume(tiny_data / "transformer_defect_000.tif")
    arr = small.read(0, small.shape[0])
    fine = np.repeat(np.repeat(np.repeat(arr, 2, axis=0), 2, axis=1), 2, axis=2)
    path = tmp_path_factory.mktemp("fine") / "transformer_fine.tif"
    tifffile.imwrite(path, fine)
    return small, open_volume(path)


@pytest.fixture(scope="module")
def detector(tiny_detector):
    return load_model(tiny_detector, "cpu")


def test_block_mean_averages_blocks_and_keeps_partial_edges():
    block = np.arange(2 * 5 * 5, dtype=np.float32).reshape(2, 5, 5)
    out = block_mean(block, 2)
    assert out.shape == (3, 3)
    assert out[0, 0] == pytest.approx(block[:, :2, :2].mean())
    assert out[2, 2] == pytest.approx(block[:, 4, 4].mean())  # the edge pixel padded by itself
    assert block_mean(block[:1], 1) == pytest.approx(block[0])


def test_binned_view_reads_block_by_block_and_keeps_the_dtype(scans):
    small, fine = scans
    spans = []
    read = fine.read

    def counting(z0, z1):
        spans.append(z1 - z0)
        return read(z0, z1)

    fine.read = counting
    try:
        view = binned(fine, (2, 2))
        assert view.shape == small.shape and view.dtype == small.dtype
        assert view.spacing == pytest.approx(tuple(2 * s for s in fine.spacing))
        assert np.array_equal(view.read(0, view.shape[0]), small.read(0, small.shape[0]))
        assert max(spans) == 2  # never the whole volume at once
    finally:
        del fine.read
    assert view.metadata["binned"] == {"factors": [2, 2, 2], "full_shape": list(fine.shape)}


def test_factors_follow_the_models_training_size(scans, detector):
    small, fine = scans
    assert model_part_size(detector.meta) is not None
    cfg = ScoringSettings()
    assert binning_factors(small, find_roi(small, detector, cfg), detector.meta, cfg) == (1, 1)
    assert binning_factors(fine, find_roi(fine, detector, cfg), detector.meta, cfg) == (2, 2)
    assert binning_factors(fine, find_roi(fine, detector, cfg), detector.meta, cfg.changed(binning=3)) == (3, 3)


def test_a_fine_scan_scores_as_its_binned_self_at_full_size(scans, detector):
    small, fine = scans
    coarse, _ = _run(score_volume(small, detector, ScoringSettings()))
    by_index = {r.index: r for r in coarse}
    results, summary = _run(score_volume(fine, detector, ScoringSettings()))
    assert summary.volume["binning"] == [2, 2, 2]
    assert summary.volume["shape"] == list(fine.shape)
    roi = find_roi(fine, detector, ScoringSettings())
    assert sorted(r.index for r in results) == sorted(roi.slices)
    matched = 0
    for r in results:
        assert r.heatmap.shape == fine.shape[1:]
        assert not r.heatmap[~roi.slices[r.index].mask(fine.shape[1:])].any()
        assert len(r.tile_scores) == len(roi.slices[r.index].tiles)
        # tile scores in the heatmap's score units, as an unbinned run gives them
        t = roi.tile_size
        seen = max(r.heatmap[y:y + t, x:x + t].max(initial=0.0) for y, x in roi.slices[r.index].tiles)
        assert r.tile_scores.max(initial=0.0) == pytest.approx(seen * detector.fusion.threshold, rel=1e-5, abs=1e-6)
        twin = by_index.get(r.index // 2)
        if twin is not None:
            matched += 1
            assert r.relative == pytest.approx(twin.relative, rel=1e-4)
            # the heatmap is the coarse one resampled: same peak, same place (to a pixel of the coarse grid)
            assert r.heatmap.max() == pytest.approx(twin.heatmap.max(), rel=0.05, abs=1e-6)
    assert matched >= len(results) * 0.8


def test_binning_one_scores_at_full_resolution(scans, detector):
    _, fine = scans
    results, summary = _run(score_volume(fine, detector, ScoringSettings(binning=1)))
    assert summary.volume["binning"] == [1, 1, 1]
    assert all(r.heatmap.shape == fine.shape[1:] for r in results)


def test_run_scoring_checks_the_domain_on_the_binned_scan(scans, detector, tmp_path):
    small, fine = scans
    _, coarse = _run(run_scoring(small, detector, ScoringSettings()))
    results, summary = _run(run_scoring(fine, detector, ScoringSettings(), out=tmp_path / "run"))
    assert summary.volume["binning"] == [2, 2, 2]
    # binned to the model's scale, the fine scan is as familiar to the model as the scan it came from
    assert summary.domain["ok"] == coarse.domain["ok"]
    assert coarse.domain["checks"]["footprint"]
    assert summary.domain["checks"]["footprint"] == coarse.domain["checks"]["footprint"]
    assert (tmp_path / "run" / "summary.json").exists()


def test_a_part_cut_by_the_scan_bins_z_like_the_plane(scans, detector, tmp_path):
    _, fine = scans
    cfg = ScoringSettings()
    z0, _, _, z1, _, _ = find_roi(fine, detector, cfg).part_bbox
    # about the middle half of the part: its height is that of the coarse part, the scan cuts it at both ends
    cut = tmp_path / "cut.tif"
    tifffile.imwrite(cut, fine.read(z0 + 8, z1 - 10))
    volume = open_volume(cut)
    roi = find_roi(volume, detector, cfg)
    assert roi.part_bbox[0] == 0 and roi.part_bbox[3] == volume.shape[0]
    assert roi.part_bbox[3] < 1.5 * model_part_size(detector.meta)[1]  # by height alone: no binning along z
    assert binning_factors(volume, roi, detector.meta, cfg) == (2, 2)
