"""Folders of 2D slices: TIFF and PNG, natural order, odd slices named."""
import numpy as np
import pytest
import tifffile
from skimage import io as skio

from ctreview.errors import CtreviewError
from ctreview.io import open_volume


def _stack(n=12, dtype=np.uint16):
    rng = np.random.default_rng(3)
    return rng.integers(0, 250, (n, 10, 14)).astype(dtype)


def test_tiff_folder_in_natural_order(tmp_path):
    data = _stack()
    for k, plane in enumerate(data):  # im1 .. im12: plain sorting would put im10 before im2
        tifffile.imwrite(tmp_path / f"im{k + 1}.tif", plane, resolution=(0.02, 0.02),
                         imagej=True, metadata={"unit": "mm"})
    (tmp_path / "notes.txt").write_text("scan notes")
    vol = open_volume(tmp_path)
    assert vol.format == "tiff-folder" and vol.shape == (12, 10, 14)
    np.testing.assert_array_equal(vol.read(), data)
    np.testing.assert_array_equal(vol.slice(9), data[9])
    assert vol.spacing == pytest.approx((50.0, 50.0, 50.0))
    assert any("assuming cubic voxels" in w for w in vol.warnings)
    assert vol.disk_bytes() > data.nbytes


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_png_folder_round_trip(tmp_path, dtype):
    data = _stack(5, dtype)
    for k, plane in enumerate(data):
        skio.imsave(tmp_path / f"slice_{k:03d}.png", plane, check_contrast=False)
    vol = open_volume(tmp_path)
    assert vol.format == "png-folder" and vol.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(vol.read(), data)
    assert vol.spacing == (1.0, 1.0, 1.0)
    assert any("no voxel spacing" in w for w in vol.warnings)


def test_rgb_png_slices_become_grey(tmp_path):
    rgb = np.zeros((6, 7, 3), np.uint8)
    rgb[..., 1] = 100
    for k in range(3):
        skio.imsave(tmp_path / f"s{k}.png", rgb, check_contrast=False)
    vol = open_volume(tmp_path)
    assert vol.shape == (3, 6, 7) and vol.dtype == np.uint8
    assert any("converted to grey" in w for w in vol.warnings)
    assert np.all(vol.slice(2) == round(0.7154 * 100))


def test_single_png_file_is_one_slice(tmp_path):
    plane = _stack(1, np.uint8)[0]
    skio.imsave(tmp_path / "one.png", plane, check_contrast=False)
    vol = open_volume(tmp_path / "one.png")
    assert vol.format == "png" and vol.shape == (1, 10, 14)
    np.testing.assert_array_equal(vol.slice(0), plane)


def test_slices_of_different_size_name_the_odd_file(tmp_path):
    data = _stack(4)
    for k, plane in enumerate(data):
        tifffile.imwrite(tmp_path / f"s{k}.tif", plane)
    tifffile.imwrite(tmp_path / "s2.tif", np.zeros((11, 14), np.uint16))
    with pytest.raises(CtreviewError) as info:
        open_volume(tmp_path)
    assert info.value.path == str(tmp_path / "s2.tif")
    assert "14x11" in info.value.message and "s0.tif" in info.value.message


def test_slices_of_different_dtype_name_the_odd_file(tmp_path):
    for k in range(3):
        tifffile.imwrite(tmp_path / f"s{k}.tif", np.zeros((5, 5), np.uint8 if k != 1 else np.uint16))
    with pytest.raises(CtreviewError) as info:
        open_volume(tmp_path)
    assert info.value.path == str(tmp_path / "s1.tif")


def test_corrupt_slice_in_folder_is_named(tmp_path):
    for k in range(3):
        tifffile.imwrite(tmp_path / f"s{k}.tif", np.zeros((5, 5), np.uint8))
    (tmp_path / "s1.tif").write_bytes(b"this is not a tiff" * 10)
    with pytest.raises(CtreviewError) as info:
        open_volume(tmp_path)
    assert info.value.path == str(tmp_path / "s1.tif")
    assert "not a readable TIFF" in info.value.message


def test_zero_byte_slice_in_folder_is_named(tmp_path):
    for k in range(3):
        tifffile.imwrite(tmp_path / f"s{k}.tif", np.zeros((5, 5), np.uint8))
    (tmp_path / "s2.tif").write_bytes(b"")
    with pytest.raises(CtreviewError, match="empty file") as info:
        open_volume(tmp_path)
    assert info.value.path == str(tmp_path / "s2.tif")


def test_folder_with_no_image_files(tmp_path):
    (tmp_path / "readme.txt").write_text("nothing here")
    (tmp_path / "data.csv").write_text("1,2,3")
    with pytest.raises(CtreviewError, match="no image files") as info:
        open_volume(tmp_path)
    assert info.value.path == str(tmp_path)


def test_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CtreviewError, match="empty folder"):
        open_volume(tmp_path / "empty")


def test_same_file_size_but_other_shape_is_caught_on_read(tmp_path):
    # 10x14 and 14x10 uint16 slices give files of equal size: found when the slice is read.
    for k in range(4):
        tifffile.imwrite(tmp_path / f"s{k}.tif", np.zeros((10, 14), np.uint16))
    tifffile.imwrite(tmp_path / "s1.tif", np.zeros((14, 10), np.uint16))
    vol = open_volume(tmp_path)
    vol.slice(0)
    with pytest.raises(CtreviewError) as info:
        vol.slice(1)
    assert info.value.path == str(tmp_path / "s1.tif")


def test_natural_key_orders_numbers_by_value():
    from pathlib import Path

    from ctreview.io._util import natural_key

    names = ["im10.tif", "im2.tif", "IM1.tif", "im1_b.tif", "im002.tif", "im100.tif"]
    ordered = [p.name for p in sorted(map(Path, names), key=natural_key)]
    assert ordered == ["IM1.tif", "im1_b.tif", "im002.tif", "im2.tif", "im10.tif", "im100.tif"]


def test_mixed_folder_uses_the_majority_and_says_so(tmp_path):
    data = _stack(3, np.uint8)
    for k, plane in enumerate(data):
        tifffile.imwrite(tmp_path / f"s{k}.tif", plane)
    skio.imsave(tmp_path / "preview.png", data[0], check_contrast=False)
    vol = open_volume(tmp_path)
    assert vol.format == "tiff-folder" and vol.shape == (3, 10, 14)
    assert any("ignoring 1 PNG" in w for w in vol.warnings)
