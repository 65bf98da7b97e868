"""Multi-page TIFF, BigTIFF, OME-TIFF and ImageJ files round-trip through open_volume."""
import threading

import numpy as np
import pytest
import tifffile

from ctreview.io import open_volume, write_tiff


@pytest.fixture
def vol16():
    return np.random.default_rng(1).integers(0, 60000, (6, 20, 30)).astype(np.uint16)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.int16, np.float64])
def test_write_tiff_round_trip(tmp_path, dtype):
    data = (np.random.default_rng(2).random((5, 12, 17)) * 200).astype(dtype)
    path = write_tiff(tmp_path / "v.tif", data, (2.0, 0.5, 0.25))
    vol = open_volume(path)
    assert vol.format == "tiff"
    assert vol.shape == (5, 12, 17) and vol.dtype == np.dtype(dtype)
    assert vol.spacing == pytest.approx((2.0, 0.5, 0.25))
    assert vol.warnings == []
    np.testing.assert_array_equal(vol.read(), data)
    np.testing.assert_array_equal(vol.slice(3), data[3])
    np.testing.assert_array_equal(vol.slice(-1), data[-1])
    assert vol.metadata["read_mode"] == "direct"
    assert len(vol) == 5


def test_compressed_tiff_is_read_page_by_page(tmp_path, vol16):
    path = tmp_path / "z.tif"
    tifffile.imwrite(path, vol16, compression="zlib", photometric="minisblack")
    vol = open_volume(path)
    assert vol.metadata["read_mode"] == "pages"
    np.testing.assert_array_equal(vol.slice(4), vol16[4])
    np.testing.assert_array_equal(vol.read(1, 3), vol16[1:3])
    assert any("no voxel spacing" in w for w in vol.warnings)
    assert vol.spacing == (1.0, 1.0, 1.0)


def test_tifffile_default_layout_and_bigtiff(tmp_path, vol16):
    # tifffile's default for a 3D array is one page with planar samples ("SYX").
    tifffile.imwrite(tmp_path / "plain.tif", vol16)
    tifffile.imwrite(tmp_path / "big.tif", vol16, bigtiff=True, photometric="minisblack")
    for name in ("plain.tif", "big.tif"):
        vol = open_volume(tmp_path / name)
        assert vol.shape == vol16.shape
        np.testing.assert_array_equal(vol.read(), vol16)


def test_big_endian_tiff(tmp_path, vol16):
    tifffile.imwrite(tmp_path / "be.tif", vol16, byteorder=">", photometric="minisblack")
    vol = open_volume(tmp_path / "be.tif")
    assert vol.dtype == np.dtype("=u2")
    np.testing.assert_array_equal(vol.slice(2), vol16[2])


def test_ome_tiff_physical_size_in_micrometres(tmp_path, vol16):
    path = tmp_path / "v.ome.tif"
    tifffile.imwrite(path, vol16, photometric="minisblack",
                     metadata={"axes": "ZYX", "PhysicalSizeX": 25.0, "PhysicalSizeXUnit": "\u00b5m",
                               "PhysicalSizeY": 25.0, "PhysicalSizeYUnit": "\u00b5m",
                               "PhysicalSizeZ": 50.0, "PhysicalSizeZUnit": "\u00b5m"})
    vol = open_volume(path)
    assert vol.format == "ome-tiff"
    assert vol.spacing == pytest.approx((0.05, 0.025, 0.025))
    np.testing.assert_array_equal(vol.read(), vol16)


def test_imagej_micron_units_and_resolution_tags(tmp_path, vol16):
    path = tmp_path / "ij.tif"
    tifffile.imwrite(path, vol16, imagej=True, resolution=(1 / 40.0, 1 / 40.0),
                     metadata={"axes": "ZYX", "spacing": 80.0, "unit": "micron"})
    assert open_volume(path).spacing == pytest.approx((0.08, 0.04, 0.04))
    # Plain TIFF resolution tags in pixels per cm; no z: assume cubic voxels with a warning.
    tifffile.imwrite(tmp_path / "cm.tif", vol16, photometric="minisblack",
                     resolution=(100.0, 100.0), resolutionunit="CENTIMETER")
    vol = open_volume(tmp_path / "cm.tif")
    assert vol.spacing == pytest.approx((0.1, 0.1, 0.1))
    assert any("assuming cubic voxels" in w for w in vol.warnings)


def test_2d_tiff_is_one_slice_with_warning(tmp_path, vol16, caplog):
    tifffile.imwrite(tmp_path / "one.tif", vol16[0])
    vol = open_volume(tmp_path / "one.tif")
    assert vol.shape == (1, 20, 30)
    assert any("2D image" in w for w in vol.warnings)
    assert "2D image" in caplog.text
    np.testing.assert_array_equal(vol.slice(0), vol16[0])


def test_rgb_tiff_becomes_grey_with_warning(tmp_path):
    rgb = np.zeros((4, 8, 9, 3), np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 200, 100, 50
    tifffile.imwrite(tmp_path / "rgb.tif", rgb, photometric="rgb")
    vol = open_volume(tmp_path / "rgb.tif")
    assert vol.shape == (4, 8, 9) and vol.dtype == np.uint8
    assert any("converted to grey" in w for w in vol.warnings)
    expected = round(0.2125 * 200 + 0.7154 * 100 + 0.0721 * 50)
    assert np.all(vol.slice(1) == expected)


def test_nan_and_inf_are_reported_and_replaced(tmp_path):
    data = np.linspace(-1, 5, 4 * 6 * 7, dtype=np.float32).reshape(4, 6, 7)
    data[1, 2, 3], data[2, 0, 0], data[3, 1, 1] = np.nan, np.inf, -np.inf
    vol = open_volume(write_tiff(tmp_path / "f.tif", data, (1, 1, 1)))
    assert any("NaN or infinite" in w for w in vol.warnings)
    assert vol.value_range() == pytest.approx((-1.0, 5.0))
    block = vol.read()
    assert np.isfinite(block).all()
    assert block[1, 2, 3] == pytest.approx(-1.0) and block[2, 0, 0] == pytest.approx(5.0)
    assert block[3, 1, 1] == pytest.approx(-1.0)
    assert np.isfinite(vol.slice(1)).all()


def test_slice_reads_are_thread_safe(tmp_path, vol16):
    path = tmp_path / "z.tif"
    tifffile.imwrite(path, vol16, compression="zlib", photometric="minisblack")
    vol = open_volume(path)
    errors = []

    def reader(order):
        for k in order * 20:
            if not np.array_equal(vol.slice(k), vol16[k]):
                errors.append(k)

    threads = [threading.Thread(target=reader, args=(list(range(6))[::s],)) for s in (1, -1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_slice_index_out_of_range(tmp_path, vol16):
    vol = open_volume(write_tiff(tmp_path / "v.tif", vol16, (1, 1, 1)))
    with pytest.raises(IndexError):
        vol.slice(6)


def test_default_resolution_tags_are_not_taken_as_spacing(tmp_path, vol16):
    # 72 dpi (image editors) and 1 dpi say nothing about voxel size.
    for dpi in (72.0, 1.0):
        tifffile.imwrite(tmp_path / "dpi.tif", vol16, photometric="minisblack",
                         resolution=(dpi, dpi), resolutionunit="INCH")
        vol = open_volume(tmp_path / "dpi.tif")
        assert vol.spacing == (1.0, 1.0, 1.0)
        assert any("no voxel spacing" in w for w in vol.warnings)
    # 254 dpi is 0.1 mm.
    tifffile.imwrite(tmp_path / "dpi.tif", vol16, photometric="minisblack",
                     resolution=(254.0, 254.0), resolutionunit="INCH")
    assert open_volume(tmp_path / "dpi.tif").spacing == pytest.approx((0.1, 0.1, 0.1))


def test_bigtiff_above_2_gib_without_writing_it():
    from ctreview.io.tiff import tiff_write_options

    assert tiff_write_options((2048, 1024, 1024), np.uint16, (1, 1, 1))["bigtiff"] is True
    small = tiff_write_options((64, 1024, 1024), np.uint16, (0.5, 0.25, 0.25))
    assert small["bigtiff"] is False and small["imagej"] is True
    assert small["metadata"] == {"axes": "ZYX", "spacing": 0.5, "unit": "mm"}
    assert small["resolution"] == (4.0, 4.0)


def test_hyperstack_axes_are_flattened_with_warning(tmp_path):
    data = np.arange(3 * 2 * 5 * 6, dtype=np.uint8).reshape(3, 2, 5, 6)  # Z, C, Y, X
    tifffile.imwrite(tmp_path / "zc.tif", data, imagej=True, metadata={"axes": "ZCYX"})
    vol = open_volume(tmp_path / "zc.tif")
    assert vol.shape == (6, 5, 6)
    assert any("flattened" in w for w in vol.warnings)
    np.testing.assert_array_equal(vol.slice(3), data[1, 1])


def test_several_series_use_the_first_with_warning(tmp_path, vol16):
    with tifffile.TiffWriter(tmp_path / "two.tif") as tw:
        tw.write(vol16, photometric="minisblack")
        tw.write(vol16[:2, :5, :5], photometric="minisblack")
    vol = open_volume(tmp_path / "two.tif")
    assert vol.shape == vol16.shape
    assert any("2 image series" in w for w in vol.warnings)


@pytest.mark.parametrize("name", ["v.tiff", "v.btf", "v.ome.tiff", "V.TIF"])
def test_tiff_suffixes(tmp_path, vol16, name):
    tifffile.imwrite(tmp_path / name, vol16, photometric="minisblack")
    np.testing.assert_array_equal(open_volume(str(tmp_path / name)).read(), vol16)
