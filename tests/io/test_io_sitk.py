"""NRRD, MHA/MHD, NIfTI and DICOM series written with SimpleITK read back in (z, y, x)."""
import numpy as np
import pytest
import SimpleITK as sitk

from ctreview.errors import CtreviewError
from ctreview.io import open_volume

DATA = np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6)  # z, y, x: all different lengths


def _image(array=DATA, spacing_zyx=(2.0, 0.5, 0.25), origin_zyx=(10.0, 20.0, 30.0)):
    image = sitk.GetImageFromArray(array)
    image.SetSpacing(tuple(reversed(spacing_zyx)))
    image.SetOrigin(tuple(reversed(origin_zyx)))
    return image


@pytest.mark.parametrize("name, fmt", [("v.nrrd", "nrrd"), ("v.nhdr", "nrrd"), ("v.mha", "mha"),
                                       ("v.mhd", "mha"), ("v.nii", "nifti"), ("v.nii.gz", "nifti")])
def test_sitk_round_trip_keeps_axes_and_spacing(tmp_path, name, fmt):
    sitk.WriteImage(_image(), str(tmp_path / name))
    vol = open_volume(tmp_path / name)
    assert vol.format == fmt
    assert vol.shape == (4, 5, 6) and vol.dtype == np.int16
    assert vol.spacing == pytest.approx((2.0, 0.5, 0.25))
    np.testing.assert_array_equal(vol.read(), DATA)
    np.testing.assert_array_equal(vol.slice(2), DATA[2])
    assert vol.warnings == []
    if fmt != "nifti":  # NIfTI stores a RAS origin (sign flips): only the others compare as written
        assert vol.origin == pytest.approx((10.0, 20.0, 30.0))
    assert vol.disk_bytes() > 0


def test_2d_mha_is_one_slice(tmp_path):
    image = sitk.GetImageFromArray(DATA[0].astype(np.float32))
    image.SetSpacing((0.3, 0.4))
    sitk.WriteImage(image, str(tmp_path / "flat.mha"))
    vol = open_volume(tmp_path / "flat.mha")
    assert vol.shape == (1, 5, 6)
    assert vol.spacing[1:] == pytest.approx((0.4, 0.3))
    assert any("2D image" in w for w in vol.warnings)


def test_rgb_nrrd_becomes_grey(tmp_path):
    rgb = np.zeros((3, 4, 5, 3), np.uint8)
    rgb[..., 0] = 255
    sitk.WriteImage(sitk.GetImageFromArray(rgb, isVector=True), str(tmp_path / "rgb.nrrd"))
    vol = open_volume(tmp_path / "rgb.nrrd")
    assert vol.shape == (3, 4, 5) and vol.dtype == np.uint8
    assert np.all(vol.slice(0) == round(0.2125 * 255))
    assert any("converted to grey" in w for w in vol.warnings)


def test_truncated_mha_raises(tmp_path):
    path = tmp_path / "cut.mha"
    sitk.WriteImage(_image(), str(path))
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) - 50])
    with pytest.raises(CtreviewError, match="not a readable MHA") as info:
        open_volume(path)
    assert info.value.path == str(path)


def test_garbage_nifti_raises(tmp_path):
    path = tmp_path / "bad.nii"
    path.write_bytes(b"\x00garbage" * 40)
    with pytest.raises(CtreviewError, match="NIFTI"):
        open_volume(path)


def _write_dicom_series(folder, array, uid, spacing_zyx=(1.5, 0.5, 0.5), reverse_names=False):
    """Write ``array`` as a CT DICOM series, one file per slice (SimpleITK/GDCM)."""
    folder.mkdir(parents=True, exist_ok=True)
    image = _image(array, spacing_zyx, (0.0, 0.0, 0.0))
    writer = sitk.ImageFileWriter()
    writer.KeepOriginalImageUIDOn()
    n = array.shape[0]
    for k in range(n):
        plane = image[:, :, k]
        for tag, value in {"0020|000e": uid, "0020|000d": "1.2.826.0.1.3680043.2.1125.1",
                           "0008|0060": "CT", "0020|0013": str(k + 1),
                           "0020|0032": "\\".join(map(str, image.TransformIndexToPhysicalPoint((0, 0, k)))),
                           "0020|0037": "1\\0\\0\\0\\1\\0", "0018|0050": str(spacing_zyx[0])}.items():
            plane.SetMetaData(tag, value)
        # File names in reverse order: the reader must sort by position, not by name.
        name = f"{uid[-2:]}_{(n - 1 - k) if reverse_names else k:03d}.dcm"
        writer.SetFileName(str(folder / name))
        writer.Execute(plane)


def test_dicom_series_sorted_by_position(tmp_path):
    _write_dicom_series(tmp_path / "ct", DATA, "1.2.826.0.1.3680043.2.1125.1.11", reverse_names=True)
    vol = open_volume(tmp_path / "ct")
    assert vol.format == "dicom" and vol.shape == (4, 5, 6)
    np.testing.assert_array_equal(vol.read(), DATA)
    assert vol.spacing == pytest.approx((1.5, 0.5, 0.5))
    assert vol.warnings == []
    # A single file stands for its series.
    one = open_volume(next((tmp_path / "ct").glob("*.dcm")))
    assert one.shape == (4, 5, 6)


def test_dicom_folder_with_two_series_takes_the_largest(tmp_path, caplog):
    small = "1.2.826.0.1.3680043.2.1125.1.22"
    _write_dicom_series(tmp_path / "ct", DATA, "1.2.826.0.1.3680043.2.1125.1.11")
    _write_dicom_series(tmp_path / "ct", DATA[:2] + 7, small)
    vol = open_volume(tmp_path / "ct")
    assert vol.shape == (4, 5, 6)
    np.testing.assert_array_equal(vol.read(), DATA)
    assert any(small in w for w in vol.warnings)
    assert small in caplog.text
    assert vol.metadata["other_series"] == [small]


def test_nrrd_without_spacing_warns(tmp_path):
    header = b"NRRD0004\ntype: short\ndimension: 3\nsizes: 6 5 4\nendian: little\nencoding: raw\n\n"
    (tmp_path / "bare.nrrd").write_bytes(header + DATA.astype("<i2").tobytes())
    vol = open_volume(tmp_path / "bare.nrrd")
    np.testing.assert_array_equal(vol.read(), DATA)
    assert vol.spacing == (1.0, 1.0, 1.0)
    assert any("no voxel spacing" in w for w in vol.warnings)
