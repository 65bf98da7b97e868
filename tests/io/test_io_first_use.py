"""What a new user trips over when opening files: NaN-only data, library chatter, one slice of a stack."""
from __future__ import annotations

import numpy as np
import pytest
import tifffile

from ctreview.cli import main
from ctreview.errors import CtreviewError
from ctreview.io import open_volume
from ctreview.io.folder import slice_stack


def test_an_all_nan_volume_says_no_finite_values(tmp_path):
    path = tmp_path / "nan.tif"
    tifffile.imwrite(path, np.full((6, 16, 16), np.nan, np.float32), photometric="minisblack")
    with pytest.raises(CtreviewError, match="no finite values"):
        open_volume(path)


def test_some_nan_slices_still_open_with_a_warning(tmp_path):
    data = np.random.default_rng(0).random((6, 16, 16)).astype(np.float32)
    data[2] = np.nan
    path = tmp_path / "some.tif"
    tifffile.imwrite(path, data, photometric="minisblack")
    volume = open_volume(path)
    assert any("NaN" in w for w in volume.warnings)
    assert np.isfinite(volume.slice(2)).all()


def test_a_folder_without_images_is_one_clean_line(tmp_path, capfd):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "readme.txt").write_text("no images here")
    assert main(["info", str(folder)]) == 2
    out, err = capfd.readouterr()  # capfd: ITK writes to the process's stderr, not sys.stderr
    assert "GDCMSeriesFileNames" not in err and "WARNING" not in err
    assert err.strip().splitlines() == [f"error: {folder}: no image files in folder (expected TIFF or PNG "
                                        "slices or a DICOM series)"]


def _write_slices(folder, n, name="im{:03d}.tif"):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    for k in range(n):
        tifffile.imwrite(folder / name.format(k + 1), rng.integers(0, 255, (24, 20), dtype=np.uint8))
    return sorted(folder.iterdir())


def test_one_slice_of_a_stack_knows_its_stack(tmp_path):
    files = _write_slices(tmp_path / "stack", 12)
    (tmp_path / "stack" / "notes.tif").write_bytes(files[0].read_bytes())  # not named alike
    stack = slice_stack(files[3])
    assert [p.name for p in stack] == [f"im{k:03d}.tif" for k in range(1, 13)]


def test_a_volume_file_or_a_lone_slice_is_no_stack(tmp_path):
    volume = tmp_path / "vols" / "part_001.tif"
    volume.parent.mkdir()
    for k in range(3):
        tifffile.imwrite(volume.with_name(f"part_{k:03d}.tif"), np.zeros((4, 8, 8), np.uint16),
                         photometric="minisblack")
    assert slice_stack(volume) == []  # multi-page TIFFs are volumes of their own
    lone = _write_slices(tmp_path / "two", 2)
    assert slice_stack(lone[0]) == []
