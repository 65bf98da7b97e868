""".npy files and in-memory volumes."""
import numpy as np
import pytest

from ctreview.errors import CtreviewError
from ctreview.io import Volume, open_volume


def test_npy_is_memory_mapped_and_round_trips(tmp_path):
    data = np.random.default_rng(4).random((3, 7, 8)).astype(np.float32)
    np.save(tmp_path / "v.npy", data)
    vol = open_volume(tmp_path / "v.npy")
    assert vol.format == "npy" and vol.shape == (3, 7, 8) and vol.dtype == np.float32
    assert isinstance(vol._source._array, np.memmap)
    np.testing.assert_array_equal(vol.read(), data)
    out = vol.slice(1)
    assert not isinstance(out, np.memmap)
    out[:] = 0  # handing out copies: the file is not touched
    np.testing.assert_array_equal(vol.slice(1), data[1])
    assert vol.spacing == (1.0, 1.0, 1.0) and any("no voxel spacing" in w for w in vol.warnings)


def test_npy_object_array_is_refused_without_unpickling(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with pytest.raises(CtreviewError, match="not a readable .npy"):
        open_volume(tmp_path / "obj.npy")


def test_truncated_npy(tmp_path):
    path = tmp_path / "cut.npy"
    np.save(path, np.zeros((4, 30, 30), np.uint16))
    path.write_bytes(path.read_bytes()[:3000])
    with pytest.raises(CtreviewError, match="truncated") as info:
        open_volume(path)
    assert info.value.path == str(path)


def test_npy_with_wrong_dimensions(tmp_path):
    np.save(tmp_path / "line.npy", np.zeros(10))
    with pytest.raises(CtreviewError, match="shape"):
        open_volume(tmp_path / "line.npy")


def test_from_array(tmp_path):
    data = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    vol = Volume.from_array(data, spacing=(0.2, 0.1, 0.1))
    assert vol.format == "array" and vol.path is None and vol.spacing == (0.2, 0.1, 0.1)
    assert vol.value_range() == (0.0, 23.0)
    np.testing.assert_array_equal(vol.read(), data)
    vol.slice(0)[:] = 99
    assert vol.slice(0)[0, 0] == 0
    flat = Volume.from_array(data[0], path=tmp_path / "x")
    assert flat.shape == (1, 3, 4) and any("2D image" in w for w in flat.warnings)
    with pytest.raises(CtreviewError):
        Volume.from_array(np.zeros((2, 2, 2, 2, 2)))
    with pytest.raises(CtreviewError, match="spacing"):
        Volume.from_array(data, spacing=(0, 1, 1))


def test_closed_volume_refuses_reads():
    with Volume.from_array(np.zeros((2, 3, 3), np.uint8)) as vol:
        vol.slice(1)
    with pytest.raises(CtreviewError, match="closed"):
        vol.slice(0)


def test_value_range_of_huge_volume_is_sampled():
    # 1.2 GB as a broadcast view (no memory): too big to scan, so a sample including both ends.
    ramp = np.arange(600, dtype=np.uint16)[:, None, None]
    vol = Volume.from_array(np.broadcast_to(ramp, (600, 1024, 1024)))
    assert vol.range_is_sampled
    assert vol.value_range() == (0.0, 599.0)
    small = Volume.from_array(np.broadcast_to(ramp, (600, 8, 8)))
    assert not small.range_is_sampled and small.value_range() == (0.0, 599.0)
