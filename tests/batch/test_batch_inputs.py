"""What `ctreview batch INPUT...` takes for volumes: files, folders of volumes, folders of slices, lists."""
from __future__ import annotations

import numpy as np
import pytest

from ctreview.batch import expand_inputs, run_name
from ctreview.errors import CtreviewError
from ctreview.io import write_tiff


def _volume(path, slices=3):
    return write_tiff(path, np.zeros((slices, 8, 8), np.uint16))


def test_folders_of_volumes_folders_of_slices_and_lists(tmp_path):
    scans = tmp_path / "scans"
    scans.mkdir()
    a, b = _volume(scans / "a.tif"), _volume(scans / "b.tif")
    (scans / "masks").mkdir()  # beside volume files, sub-folders are not scans
    _volume(scans / "masks" / "a.tif")
    stack = tmp_path / "stack"  # a folder of single-slice TIFFs is one volume
    stack.mkdir()
    for k in range(4):
        write_tiff(stack / f"slice_{k:03d}.tif", np.zeros((8, 8), np.uint16))
    nested = tmp_path / "nested"  # a folder of scan folders
    (nested / "part1").mkdir(parents=True)
    (nested / "part2").mkdir()
    c, d = _volume(nested / "part1" / "c.tif"), _volume(nested / "part2" / "d.tif")
    listing = tmp_path / "more.txt"
    listing.write_text(f"# one path per line\n{a}\n\nstack\nmissing.tif\n")
    found = expand_inputs([scans, stack, nested, listing])
    assert found == [a, b, stack, c, d, tmp_path / "missing.tif"]  # each once; a listed missing file stays


def test_a_missing_input_or_no_volume_is_a_user_error(tmp_path):
    with pytest.raises(CtreviewError, match="no such file"):
        expand_inputs([tmp_path / "nope.tif"])
    (tmp_path / "empty.txt").write_text("# nothing\n")
    with pytest.raises(CtreviewError, match="empty"):
        expand_inputs([tmp_path / "empty.txt"])


def test_run_names_are_stable_and_unique_for_equal_file_names(tmp_path):
    one, two = tmp_path / "x" / "scan.nii.gz", tmp_path / "y" / "scan.nii.gz"
    assert run_name(one) == run_name(one) and run_name(one) != run_name(two)
    assert run_name(one).startswith("scan-") and run_name(tmp_path / "a b&c.tif").startswith("a_b_c-")
