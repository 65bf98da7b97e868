"""A NaN ``.npy`` says what is wrong once: one error line, or one NaN warning, never both or contradictory."""
import numpy as np

from ctreview.cli import main


def test_an_all_nan_npy_is_exactly_one_error_line(tmp_path, capsys):
    path = tmp_path / "all.npy"
    np.save(path, np.full((4, 16, 16), np.nan, np.float32))
    assert main(["info", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == f"error: {path}: no finite values: every voxel is NaN or infinite\n"


def test_a_partly_nan_npy_warns_about_nan_once_and_opens(tmp_path, capsys):
    data = np.random.default_rng(0).random((10, 16, 16)).astype(np.float32)
    data[1, 2:5, 2:5] = np.nan
    data[:8] = np.nan  # the first slices hold nothing finite: no "no finite values" for the volume
    path = tmp_path / "part.npy"
    np.save(path, data)
    assert main(["info", str(path)]) == 0
    lines = capsys.readouterr().err.splitlines()
    nan = [line for line in lines if "NaN" in line or "finite" in line]
    assert nan == [f"warning: {path}: NaN or infinite values in the data: shown as the finite minimum/maximum"]
    assert all(line.startswith(f"warning: {path}: ") for line in lines) and len(lines) == 2  # and the spacing
