"""ROI on odd input: dtypes, air, constant, border, two parts; tiles; the CLI."""
import json
import logging

import numpy as np
import pytest
import tifffile

from ctreview.cli import main
from ctreview.errors import CtreviewError
from ctreview.roi import cut_tiles, extract_roi
from ctreview.roi.tiles import tile_positions


def block_volume(shape=(20, 80, 80), box=(5, 20, 25, 15, 60, 55), value=200.0, noise=5.0, seed=0):
    rng = np.random.default_rng(seed)
    vol = rng.normal(20.0, noise, shape)
    z0, y0, x0, z1, y1, x1 = box
    vol[z0:z1, y0:y1, x0:x1] += value
    return vol


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
def test_any_dtype(dtype):
    vol = block_volume()
    if dtype == np.uint16:
        vol = vol * 200
    roi = extract_roi(np.clip(vol, 0, None).astype(dtype))
    assert roi.part_bbox == (5, 20, 25, 15, 60, 55)
    assert sorted(roi.slices) == list(range(5, 15))


def test_nan_values_are_ignored():
    vol = block_volume().astype(np.float32)
    vol[0, :3, :3] = np.nan
    vol[1, 5, 5] = np.inf
    assert extract_roi(vol).part_bbox == (5, 20, 25, 15, 60, 55)


def test_all_air_volume_is_an_error():
    with pytest.raises(CtreviewError, match="no part"):
        extract_roi(np.random.default_rng(1).normal(1000, 30, (16, 64, 64)).astype(np.float32))


def test_constant_volume_is_an_error():
    with pytest.raises(CtreviewError, match="constant"):
        extract_roi(np.full((8, 32, 32), 7, np.uint8))


def test_part_touching_the_border_warns(caplog):
    vol = block_volume(box=(0, 0, 30, 12, 40, 80))
    with caplog.at_level(logging.WARNING):
        roi = extract_roi(vol)
    assert roi.part_bbox == (0, 0, 30, 12, 40, 80)
    assert any("border" in w for w in roi.warnings) and "border" in caplog.text


def test_two_parts_keep_the_largest_with_a_warning():
    vol = block_volume(box=(2, 10, 10, 18, 40, 40))
    vol[4:14, 50:70, 50:75] += 200
    roi = extract_roi(vol)
    assert roi.part_bbox == (2, 10, 10, 18, 40, 40)
    assert any("2 separate parts" in w for w in roi.warnings)


def test_single_slice_and_bad_shape():
    image = block_volume()[8]
    assert extract_roi(image).part_bbox == (0, 20, 25, 1, 60, 55)
    with pytest.raises(CtreviewError):
        extract_roi(np.zeros((2, 2, 2, 2)))


def test_large_roi_gets_many_native_tiles_small_one_gets_one_centred():
    tiles = tile_positions((0, 0, 500, 500), (512, 512), 64, 48)
    assert len(tiles) == 11 * 11
    assert max(y for y, _ in tiles) == 500 - 64
    assert tile_positions((100, 100, 110, 120), (512, 512), 64, 48) == [(73, 78)]
    assert tile_positions((0, 0, 10, 10), (512, 512), 64, 48) == [(0, 0)]
    assert tile_positions((500, 500, 512, 512), (512, 512), 64, 48) == [(448, 448)]


def test_tile_size_override_and_cut_tiles():
    vol = block_volume(shape=(12, 128, 128), box=(2, 10, 10, 10, 118, 118))
    roi = extract_roi(vol.astype(np.float32), tile_size=32)
    assert roi.tile_size == 32 and roi.stride == 24
    sl = roi.slices[5]
    tiles = cut_tiles(vol[5].astype(np.float32), sl.tiles, 32)
    assert tiles.shape == (len(sl.tiles), 32, 32) and len(sl.tiles) >= 16
    np.testing.assert_array_equal(tiles[0], vol[5][sl.tiles[0][0]:sl.tiles[0][0] + 32,
                                                   sl.tiles[0][1]:sl.tiles[0][1] + 32].astype(np.float32))
    small = cut_tiles(np.arange(100, dtype=np.uint8).reshape(10, 10), [(0, 0)], 16)
    assert small.shape == (1, 16, 16) and small.dtype == np.uint8


def test_mostly_air_tiles_are_dropped():
    vol = block_volume(shape=(6, 256, 256), box=(1, 20, 20, 5, 40, 236))  # a long thin bar
    roi = extract_roi(vol)
    ys = {y for y, _ in roi.slices[2].tiles}
    assert len(ys) == 1  # one row of tiles along the bar, none over the air below


def test_cli_json_summary_and_preview(tmp_path, capsys):
    path = tmp_path / "part.tif"
    tifffile.imwrite(path, np.clip(block_volume(), 0, 255).astype(np.uint8), photometric="minisblack")
    assert main(["roi", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["part_bbox"] == [5, 20, 25, 15, 60, 55] and data["profile"] == "whole-part"
    assert data["slices"][0]["index"] == 5 and data["slices"][0]["boxes"] == [[20, 25, 60, 55]]
    png = tmp_path / "preview.png"
    assert main(["roi", str(path), "--profile", "auto", "--preview", str(png)]) == 0
    out = capsys.readouterr().out
    assert "part: z 5-15" in out and png.stat().st_size > 1000
    import imageio.v3 as iio
    sheet = iio.imread(png)
    assert sheet.ndim == 3 and (sheet == [230, 40, 40]).all(axis=2).any()


def test_cli_preview_of_independent_images(tmp_path, capsys):
    # images have no part segmentation: the sheet shows their ROI boxes (it used to crash)
    names = []
    for k, image in enumerate(np.clip(block_volume(shape=(3, 80, 80), box=(0, 20, 25, 3, 60, 55)), 0, 255)):
        names.append(str(tmp_path / f"image{k}.tif"))
        tifffile.imwrite(names[-1], image.astype(np.uint8), photometric="minisblack")
    png = tmp_path / "preview.png"
    assert main(["roi", "--images", *names, "--preview", str(png)]) == 0
    assert "images with a ROI: 3" in capsys.readouterr().out
    import imageio.v3 as iio
    sheet = iio.imread(png)
    assert sheet.ndim == 3 and (sheet == [230, 40, 40]).all(axis=2).any()


def test_cli_errors_are_one_line(tmp_path, capsys):
    air = tmp_path / "air.tif"
    tifffile.imwrite(air, np.full((4, 16, 16), 3, np.uint8), photometric="minisblack")
    assert main(["roi", str(air)]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "constant" in errors[0] and str(air) in errors[0]
    assert main(["roi", str(air), "--profile", "no-such-profile"]) == 2


def test_volume_object_gives_the_same_result_as_the_array():
    from ctreview.io import Volume

    array = np.clip(block_volume(), 0, None).astype(np.uint16)
    a = extract_roi(array)
    b = extract_roi(Volume.from_array(array))
    assert a.part_bbox == b.part_bbox and a.to_json() == b.to_json()


def test_progress_and_cancel():
    from ctreview.errors import Cancelled
    from ctreview.progress import drain
    from ctreview.roi import iter_roi

    seen = []
    drain(iter_roi(block_volume()), lambda step: seen.append((step.done, step.total)))
    assert seen[-1] == (10, 10)
    with pytest.raises(Cancelled):
        drain(iter_roi(block_volume(), should_stop=lambda: True))


def test_noisy_scan_still_gives_the_box():
    vol = block_volume(noise=45.0, seed=3)  # contrast only ~4.5x the noise
    roi = extract_roi(vol.astype(np.float32))
    box = np.array(roi.part_bbox)
    assert np.abs(box - (5, 20, 25, 15, 60, 55)).max() <= 1
