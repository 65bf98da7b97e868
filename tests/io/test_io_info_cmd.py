"""``ctreview info``: text and JSON output, warnings on stderr, one-line errors."""
import json
import subprocess
import sys

import numpy as np
import pytest
import tifffile

from ctreview.cli import main
from ctreview.io import write_tiff

DATA = np.arange(5 * 8 * 9, dtype=np.uint16).reshape(5, 8, 9) + 100


def test_info_text(tmp_path, capsys):
    path = write_tiff(tmp_path / "v.tif", DATA, (0.5, 0.25, 0.25))
    assert main(["info", str(path)]) == 0
    out, err = capsys.readouterr()
    assert "shape:    5 x 8 x 9 (z, y, x)" in out
    assert "dtype:    uint16" in out
    assert "spacing:  0.5 x 0.25 x 0.25 mm" in out
    assert "format:   tiff" in out
    assert "range:    100 .. 459" in out
    assert "on disk" in out and "720 B in memory" in out
    assert err == ""


def test_info_json(tmp_path, capsys):
    path = write_tiff(tmp_path / "v.tif", DATA, (0.5, 0.25, 0.25))
    assert main(["info", str(path), "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["shape"] == [5, 8, 9] and facts["dtype"] == "uint16"
    assert facts["spacing"] == [0.5, 0.25, 0.25] and facts["format"] == "tiff"
    assert (facts["min"], facts["max"]) == (100, 459)
    assert facts["memory_bytes"] == DATA.nbytes and facts["size_bytes"] > DATA.nbytes
    assert facts["path"] == str(path) and facts["warnings"] == []


def test_info_warnings_go_to_stderr(tmp_path, capsys):
    path = tmp_path / "flat.tif"
    tifffile.imwrite(path, DATA[0])
    assert main(["info", str(path), "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["shape"] == [1, 8, 9]
    assert f"warning: {path}: 2D image: loaded as a volume of one slice" in err.splitlines()
    assert f"warning: {path}: no voxel spacing in the file: using 1.0 mm" in err.splitlines()


@pytest.mark.parametrize("name, content, what", [
    ("missing.tif", None, "no such file or folder"),
    ("zero.tif", b"", "empty file"),
    ("a.xyz", b"x", "unknown file type"),
    ("junk.nrrd", b"NRRD0004\nnonsense\n\n", "not a readable NRRD"),
])
def test_info_errors_are_one_line(tmp_path, capsys, name, content, what):
    target = tmp_path / name
    if content is not None:
        target.write_bytes(content)
    assert main(["info", str(target)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"error: {target}: {what}")
    assert err.count("\n") == 1


def test_info_subprocess_shows_no_traceback(tmp_path):
    path = tmp_path / "broken.tif"
    write_tiff(path, DATA, (1, 1, 1))
    path.write_bytes(path.read_bytes()[:300])
    proc = subprocess.run([sys.executable, "-m", "ctreview", "info", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith(f"error: {path}: ")
    assert proc.stdout == ""
