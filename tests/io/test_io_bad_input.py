"""Bad input: every case is a CtreviewError naming the offending file, never a crash."""
import numpy as np
import pytest
import tifffile

from ctreview.errors import CtreviewError
from ctreview.io import open_volume, write_tiff

DATA = np.random.default_rng(5).integers(0, 1000, (6, 40, 50)).astype(np.uint16)


def _raises(path, match):
    with pytest.raises(CtreviewError, match=match) as info:
        open_volume(path)
    return info.value


def test_missing_path(tmp_path):
    err = _raises(tmp_path / "nope.tif", "no such file")
    assert err.path == str(tmp_path / "nope.tif")
    assert str(err) == f"{tmp_path / 'nope.tif'}: no such file or folder"


@pytest.mark.parametrize("name", ["zero.tif", "zero.npy", "zero.nrrd", "zero.png"])
def test_zero_byte_file(tmp_path, name):
    (tmp_path / name).write_bytes(b"")
    assert _raises(tmp_path / name, "empty file").path == str(tmp_path / name)


def test_unknown_extension_lists_supported(tmp_path):
    (tmp_path / "scan.xyz").write_bytes(b"12345")
    err = _raises(tmp_path / "scan.xyz", "unknown file type '.xyz'")
    for suffix in (".tif", ".nrrd", ".mha", ".nii.gz", ".npy", ".dcm"):
        assert suffix in err.message


def test_truncated_uncompressed_tiff(tmp_path):
    path = write_tiff(tmp_path / "cut.tif", DATA, (1, 1, 1))
    path.write_bytes(path.read_bytes()[: DATA.nbytes // 2])
    # tifffile may log that the IFD chain is broken; the error must still name the file.
    err = _raises(path, "truncated|not a readable|corrupt")
    assert err.path == str(path)


def test_truncated_compressed_tiff(tmp_path):
    path = tmp_path / "cutz.tif"
    noisy = np.random.default_rng(6).integers(0, 65535, DATA.shape).astype(np.uint16)
    tifffile.imwrite(path, noisy, compression="zlib", photometric="minisblack")
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) - 3000])
    with pytest.raises(CtreviewError) as info:
        vol = open_volume(path)
        vol.read()  # if the header survived, reading the lost data must fail cleanly
    assert info.value.path == str(path)


def test_garbage_tiff(tmp_path):
    path = tmp_path / "junk.tif"
    path.write_bytes(b"II*\x00" + bytes(range(256)) * 4)
    assert _raises(path, "TIFF").path == str(path)


def test_text_file_named_tiff(tmp_path):
    path = tmp_path / "notes.tiff"
    path.write_text("just some text, not an image\n" * 20)
    assert _raises(path, "not a readable TIFF").path == str(path)


def test_corrupt_png_file(tmp_path):
    path = tmp_path / "bad.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)
    assert _raises(path, "PNG").path == str(path)


def test_corrupt_npy_file(tmp_path):
    path = tmp_path / "bad.npy"
    path.write_bytes(b"\x93NUMPY\x01\x00garbage-header")
    assert _raises(path, ".npy").path == str(path)


def test_folder_of_non_dicom_dcm_files(tmp_path):
    (tmp_path / "a.dcm").write_bytes(b"not dicom at all" * 20)
    err = _raises(tmp_path / "a.dcm", "DICOM")
    assert err.path == str(tmp_path / "a.dcm")
    _raises(tmp_path, "no image files")
