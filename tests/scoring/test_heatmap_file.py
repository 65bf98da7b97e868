"""The run folder's heatmap is compact: uint16 steps of 1/4096 threshold, compressed, never larger than the volume."""
from __future__ import annotations

import numpy as np
import pytest
import tifffile

from ctreview.scoring.heatmap_file import SCALE, TOP, HeatmapWriter, open_heatmap, read_heatmap


def _heat(seed: int, shape=(40, 96, 96)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    heat = np.zeros(shape, np.float32)
    y1, x1 = min(70, shape[1]), min(70, shape[2])
    heat[:, 5:y1, 5:x1] = rng.gamma(1.2, 0.3, (shape[0], y1 - 5, x1 - 5))
    heat[min(5, shape[0] - 1), 8:12, 8:12] = 7.25   # a defect
    return heat


def test_round_trip_within_half_a_step_and_zero_stays_zero(tmp_path):
    heat = _heat(0)
    writer = HeatmapWriter(tmp_path / "heatmap.tif", heat.shape)
    for k in range(heat.shape[0]):
        writer.put(k, heat[k])
    writer.close()
    back = read_heatmap(tmp_path / "heatmap.tif")
    assert back.dtype == np.float32 and back.shape == heat.shape
    assert np.abs(back - heat).max() <= SCALE / 2 + 1e-7
    assert (back[heat == 0] == 0).all()
    with tifffile.TiffFile(tmp_path / "heatmap.tif") as tif:
        assert tif.pages[0].dtype == np.uint16 and tif.pages[0].compression != 1


def test_the_file_is_smaller_than_a_uint16_volume_of_that_shape(tmp_path):
    heat = _heat(1)
    writer = HeatmapWriter(tmp_path / "h.tif", heat.shape)
    for k in range(heat.shape[0]):
        writer.put(k, heat[k])
    assert writer.nbytes_held < heat.size * 2
    writer.close()
    assert (tmp_path / "h.tif").stat().st_size < heat.size * 2


def test_a_later_slice_replaces_an_earlier_one_and_slabs_read_as_float(tmp_path):
    writer = HeatmapWriter(tmp_path / "h.tif", (6, 32, 32))
    writer.put(2, np.ones((32, 32), np.float32))
    writer.put(2, np.full((32, 32), 3.0, np.float32))
    slab = writer[1:4]
    assert slab.shape == (3, 32, 32) and slab[1].max() == pytest.approx(3.0) and slab[0].max() == 0
    writer.put(3, np.full((32, 32), 1e9, np.float32))   # beyond the top: kept as the top, not wrapped
    writer.close()
    heat = open_heatmap(tmp_path / "h.tif")
    assert heat[3].max() == pytest.approx(TOP, rel=1e-6) and heat[2:3].shape == (1, 32, 32)


def test_a_float32_heatmap_of_an_earlier_ctreview_reads_as_it_is(tmp_path):
    heat = _heat(2, (4, 16, 16))
    tifffile.imwrite(tmp_path / "old.tif", heat, photometric="minisblack")
    np.testing.assert_array_equal(read_heatmap(tmp_path / "old.tif"), heat)
