"""The command line as a new user meets it: a bare volume path, quick errors before heavy imports."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ctreview.cli import _with_bare_path, build_parser, main

ROOT = Path(__file__).resolve().parents[2]


def test_a_bare_existing_path_opens_the_window(tmp_path):
    volume = tmp_path / "scan.tif"
    volume.write_bytes(b"x")
    argv = _with_bare_path([str(volume), "--model", "m"])
    assert argv == ["gui", str(volume), "--model", "m"]
    args = build_parser().parse_args(argv)
    assert args.command == "gui" and args.volume == str(volume) and args.model == "m"
    assert _with_bare_path(["-v", str(tmp_path)]) == ["-v", "gui", str(tmp_path)]


def test_commands_and_options_are_left_alone(tmp_path):
    for argv in (["score", "x.tif"], ["--version"], [], ["gui", "x.tif"]):
        assert _with_bare_path(list(argv)) == list(argv)


def test_a_missing_bare_path_is_one_error_line(tmp_path, capsys):
    assert main([str(tmp_path / "missing.tif")]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path / 'missing.tif'}: no such file or folder\n"


@pytest.mark.parametrize("argv", [
    ["score", "MISSING", "--out", "RUN"],
    ["score", "VOLUME", "--out", "RUN", "--model", "MISSING"],
    ["train", "MISSING", "--out", "RUN"],
])
def test_input_errors_come_before_torch_is_imported(tmp_path, argv):
    volume = tmp_path / "v.tif"
    import numpy as np

    from ctreview.io import write_tiff

    write_tiff(volume, np.zeros((4, 8, 8), np.uint16))
    argv = [{"MISSING": str(tmp_path / "missing"), "RUN": str(tmp_path / "run"),
             "VOLUME": str(volume)}.get(a, a) for a in argv]
    code = ("import sys; from ctreview.cli import main; rc = main(sys.argv[1:]); "
            "print('torch' in sys.modules, rc)")
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, cwd=ROOT,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                               "CTREVIEW_DATA_DIR": str(tmp_path / "data")}, timeout=120)
    assert done.stdout.split() == ["False", "2"], done.stderr
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1
